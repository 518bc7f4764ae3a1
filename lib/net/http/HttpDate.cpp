#include "lib/net/http/HttpDate.h"

namespace aisos::http {

std::string_view format_http_date(uint64_t unix_seconds, char (&buffer)[http_date_length + 1])
{
    static constexpr char days[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }; // 1970-01-01 was a Thursday
    static constexpr char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

    uint64_t day_number = unix_seconds / 86400;
    uint64_t second_of_day = unix_seconds % 86400;

    // Civil date from days since the epoch (the days_from_civil inverse,
    // proleptic Gregorian calendar, eras of 400 years).
    int64_t z = int64_t(day_number) + 719468;
    int64_t era = z / 146097;
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t year = year_of_era + era * 400;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    int64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    if (month <= 2)
        ++year;
    if (year > 9999)
        year = 9999;

    auto put2 = [&](size_t at, uint64_t value) {
        buffer[at] = char('0' + value / 10 % 10);
        buffer[at + 1] = char('0' + value % 10);
    };
    const char* weekday = days[day_number % 7];
    buffer[0] = weekday[0];
    buffer[1] = weekday[1];
    buffer[2] = weekday[2];
    buffer[3] = ',';
    buffer[4] = ' ';
    put2(5, uint64_t(day));
    buffer[7] = ' ';
    const char* month_name = months[month - 1];
    buffer[8] = month_name[0];
    buffer[9] = month_name[1];
    buffer[10] = month_name[2];
    buffer[11] = ' ';
    put2(12, uint64_t(year) / 100);
    put2(14, uint64_t(year) % 100);
    buffer[16] = ' ';
    put2(17, second_of_day / 3600);
    buffer[19] = ':';
    put2(20, second_of_day / 60 % 60);
    buffer[22] = ':';
    put2(23, second_of_day % 60);
    buffer[25] = ' ';
    buffer[26] = 'G';
    buffer[27] = 'M';
    buffer[28] = 'T';
    buffer[29] = 0;
    return { buffer, http_date_length };
}

} // namespace aisos::http
