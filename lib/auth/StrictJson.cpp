#include "lib/auth/StrictJson.h"

namespace aisos::auth {

ErrorOr<void> check_object_members(json::JsonValue object, std::span<const std::string_view> allowed)
{
    if (!object.is_object())
        return Error::invalid("expected a JSON object");
    size_t index = 0;
    for (auto it = object.begin(); it != object.end(); ++it, ++index) {
        auto key = it.key();
        bool known = false;
        for (auto name : allowed)
            known = known || name == key;
        if (!known)
            return Error::invalid("unexpected member in JSON object");
        size_t other = 0;
        for (auto jt = object.begin(); other < index; ++jt, ++other) {
            if (jt.key() == key)
                return Error::invalid("duplicate member in JSON object");
        }
    }
    return {};
}

} // namespace aisos::auth
