/* snprintf/vsnprintf without floating point, and puts to the kernel log. */
#include <aisos/sys.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Output that counts everything and stores what fits (C99 semantics). */
struct sink {
    char* buffer;
    size_t capacity;
    size_t length;
};

static void put(struct sink* out, char c)
{
    if (out->length + 1 < out->capacity)
        out->buffer[out->length] = c;
    ++out->length;
}

static void put_repeat(struct sink* out, char c, int count)
{
    for (int i = 0; i < count; ++i)
        put(out, c);
}

enum {
    FLAG_LEFT = 1,
    FLAG_ZERO = 2,
    FLAG_PLUS = 4,
    FLAG_SPACE = 8,
    FLAG_ALTERNATE = 16,
};

/* One integer conversion: sign or prefix, zero padding from the precision
 * or the '0' flag, then space padding to the width. */
static void put_integer(struct sink* out, uint64_t value, int negative, unsigned base, int upper, int flags,
                        int width, int precision)
{
    char digits[24];
    int count = 0;
    const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    while (value) {
        digits[count++] = set[value % base];
        value /= base;
    }
    /* precision 0 with value 0 prints no digits (C99 7.19.6.1). */
    if (precision < 0 && count == 0)
        digits[count++] = '0';

    char prefix[2];
    int prefix_length = 0;
    if (negative)
        prefix[prefix_length++] = '-';
    else if (flags & FLAG_PLUS)
        prefix[prefix_length++] = '+';
    else if (flags & FLAG_SPACE)
        prefix[prefix_length++] = ' ';
    if ((flags & FLAG_ALTERNATE) && base == 16 && count && !(count == 1 && digits[0] == '0')) {
        prefix[0] = '0';
        prefix[1] = upper ? 'X' : 'x';
        prefix_length = 2;
    }
    if ((flags & FLAG_ALTERNATE) && base == 8 && (count == 0 || digits[count - 1] != '0'))
        digits[count++] = '0';

    int zeros = precision > count ? precision - count : 0;
    int total = prefix_length + zeros + count;
    if (precision < 0 && (flags & FLAG_ZERO) && !(flags & FLAG_LEFT) && width > total) {
        zeros += width - total;
        total = width;
    }
    if (!(flags & FLAG_LEFT))
        put_repeat(out, ' ', width - total);
    for (int i = 0; i < prefix_length; ++i)
        put(out, prefix[i]);
    put_repeat(out, '0', zeros);
    while (count)
        put(out, digits[--count]);
    if (flags & FLAG_LEFT)
        put_repeat(out, ' ', width - total);
}

static void put_text(struct sink* out, const char* text, int flags, int width, int precision)
{
    if (!text)
        text = "(null)";
    size_t length = precision >= 0 ? strnlen(text, (size_t)precision) : strlen(text);
    int pad = width > (int)length ? width - (int)length : 0;
    if (!(flags & FLAG_LEFT))
        put_repeat(out, ' ', pad);
    for (size_t i = 0; i < length; ++i)
        put(out, text[i]);
    if (flags & FLAG_LEFT)
        put_repeat(out, ' ', pad);
}

enum length_modifier { LENGTH_INT, LENGTH_CHAR, LENGTH_SHORT, LENGTH_LONG, LENGTH_LONG_LONG, LENGTH_SIZE };

int vsnprintf(char* __restrict buffer, size_t capacity, const char* __restrict format, va_list arguments)
{
    struct sink out = {buffer, capacity, 0};
    while (*format) {
        if (*format != '%') {
            put(&out, *format++);
            continue;
        }
        const char* start = format++;
        int flags = 0;
        for (;; ++format) {
            if (*format == '-')
                flags |= FLAG_LEFT;
            else if (*format == '0')
                flags |= FLAG_ZERO;
            else if (*format == '+')
                flags |= FLAG_PLUS;
            else if (*format == ' ')
                flags |= FLAG_SPACE;
            else if (*format == '#')
                flags |= FLAG_ALTERNATE;
            else
                break;
        }
        int width = 0;
        if (*format == '*') {
            width = va_arg(arguments, int);
            if (width < 0) {
                flags |= FLAG_LEFT;
                width = -width;
            }
            ++format;
        } else {
            while (*format >= '0' && *format <= '9')
                width = width * 10 + (*format++ - '0');
        }
        int precision = -1;
        if (*format == '.') {
            ++format;
            precision = 0;
            if (*format == '*') {
                precision = va_arg(arguments, int);
                if (precision < 0)
                    precision = -1;
                ++format;
            } else {
                while (*format >= '0' && *format <= '9')
                    precision = precision * 10 + (*format++ - '0');
            }
        }
        enum length_modifier modifier = LENGTH_INT;
        if (*format == 'h') {
            modifier = LENGTH_SHORT;
            if (*++format == 'h') {
                modifier = LENGTH_CHAR;
                ++format;
            }
        } else if (*format == 'l') {
            modifier = LENGTH_LONG;
            if (*++format == 'l') {
                modifier = LENGTH_LONG_LONG;
                ++format;
            }
        } else if (*format == 'z' || *format == 'j' || *format == 't') {
            modifier = LENGTH_SIZE;
            ++format;
        }

        char conversion = *format;
        if (!conversion) {
            /* A lone '%' at the end: print it as it was written. */
            while (start < format)
                put(&out, *start++);
            break;
        }
        ++format;
        switch (conversion) {
        case 'd':
        case 'i': {
            int64_t value;
            if (modifier == LENGTH_LONG || modifier == LENGTH_LONG_LONG || modifier == LENGTH_SIZE)
                value = va_arg(arguments, int64_t);
            else
                value = va_arg(arguments, int);
            if (modifier == LENGTH_SHORT)
                value = (short)value;
            else if (modifier == LENGTH_CHAR)
                value = (signed char)value;
            /* Negate in unsigned arithmetic: -INT64_MIN does not exist. */
            uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
            put_integer(&out, magnitude, value < 0, 10, 0, flags, width, precision);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t value;
            if (modifier == LENGTH_LONG || modifier == LENGTH_LONG_LONG || modifier == LENGTH_SIZE)
                value = va_arg(arguments, uint64_t);
            else
                value = va_arg(arguments, unsigned);
            if (modifier == LENGTH_SHORT)
                value = (unsigned short)value;
            else if (modifier == LENGTH_CHAR)
                value = (unsigned char)value;
            unsigned base = conversion == 'u' ? 10 : conversion == 'o' ? 8 : 16;
            put_integer(&out, value, 0, base, conversion == 'X', flags & ~(FLAG_PLUS | FLAG_SPACE), width, precision);
            break;
        }
        case 'p': {
            uintptr_t value = (uintptr_t)va_arg(arguments, void*);
            /* "0x0" for NULL (the '#' flag alone would print a bare "0"). */
            if (value == 0)
                put_text(&out, "0x0", flags & FLAG_LEFT, width, -1);
            else
                put_integer(&out, value, 0, 16, 0, (flags & FLAG_LEFT) | FLAG_ALTERNATE, width, -1);
            break;
        }
        case 'c': {
            char c = (char)va_arg(arguments, int);
            int pad = width > 1 ? width - 1 : 0;
            if (!(flags & FLAG_LEFT))
                put_repeat(&out, ' ', pad);
            put(&out, c);
            if (flags & FLAG_LEFT)
                put_repeat(&out, ' ', pad);
            break;
        }
        case 's':
            put_text(&out, va_arg(arguments, const char*), flags, width, precision);
            break;
        case '%':
            put(&out, '%');
            break;
        default:
            /* Unknown (or floating point): print the directive unchanged so
             * the mistake shows in the output instead of eating arguments. */
            while (start < format)
                put(&out, *start++);
            break;
        }
    }
    if (capacity)
        buffer[out.length < capacity ? out.length : capacity - 1] = 0;
    return out.length > (size_t)INT32_MAX ? -1 : (int)out.length;
}

int snprintf(char* __restrict buffer, size_t capacity, const char* __restrict format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    int result = vsnprintf(buffer, capacity, format, arguments);
    va_end(arguments);
    return result;
}

int puts(const char* text)
{
    return aisos_sys_log(text, strlen(text)) < 0 ? EOF : 0;
}
