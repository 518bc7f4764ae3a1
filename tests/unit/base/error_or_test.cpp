#include "lib/base/ErrorOr.h"

#include <gtest/gtest.h>
#include <memory>

using namespace aisos;

static ErrorOr<int> parse_digit(char c)
{
    if (c < '0' || c > '9')
        return Error::invalid("not a digit");
    return c - '0';
}

static ErrorOr<int> sum_digits(const char* s)
{
    int total = 0;
    for (; *s; ++s)
        total += TRY(parse_digit(*s));
    return total;
}

TEST(ErrorOr, TryPropagatesTheFirstError)
{
    auto ok = sum_digits("123");
    ASSERT_FALSE(ok.is_error());
    EXPECT_EQ(ok.value(), 6);
    auto bad = sum_digits("12x3");
    ASSERT_TRUE(bad.is_error());
    EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
    EXPECT_STREQ(bad.error().reason(), "not a digit");
}

TEST(ErrorOr, HoldsMoveOnlyValuesAndDestroysThem)
{
    auto counter = std::make_shared<int>(0);
    {
        ErrorOr<std::shared_ptr<int>> holder(counter);
        EXPECT_EQ(counter.use_count(), 2);
        ErrorOr<std::unique_ptr<int>> unique(std::make_unique<int>(7));
        auto moved = std::move(unique);
        EXPECT_EQ(*moved.value(), 7);
    }
    EXPECT_EQ(counter.use_count(), 1);
}

TEST(ErrorOr, VoidSpecialisation)
{
    auto f = [](bool fail) -> ErrorOr<void> {
        if (fail)
            return Error::no_memory();
        return {};
    };
    EXPECT_FALSE(f(false).is_error());
    EXPECT_EQ(f(true).error().code(), ErrorCode::OutOfMemory);
}
