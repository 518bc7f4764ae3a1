/* The <math.h> subset the inference engine needs (see include/math.h for
 * the accuracy promise). Every float function is its double counterpart
 * rounded once; the double ones reduce the argument exactly (or nearly) and
 * then sum a short Taylor series, which is plenty at these ranges and easy
 * to check against the host libm (tests/math_test.c). Rounding, sqrt,
 * min/max use the SSE4.1 instructions modules may always use. */
#include <math.h>
#include <stdint.h>

static inline uint64_t bits_of(double x)
{
    uint64_t bits;
    __builtin_memcpy(&bits, &x, sizeof(bits));
    return bits;
}

static inline double double_of(uint64_t bits)
{
    double x;
    __builtin_memcpy(&x, &bits, sizeof(x));
    return x;
}

/* roundsd with an explicit mode; 8 = suppress the inexact exception. */
#define ROUND_NEAREST 0x8
#define ROUND_DOWN 0x9
#define ROUND_UP 0xa
#define ROUND_TRUNCATE 0xb
#define ROUND_CURRENT 0xc

static inline double round_mode(double x, int mode)
{
    double result;
    switch (mode) {
    case ROUND_NEAREST: __asm__("roundsd $0x8, %1, %0" : "=x"(result) : "x"(x)); break;
    case ROUND_DOWN: __asm__("roundsd $0x9, %1, %0" : "=x"(result) : "x"(x)); break;
    case ROUND_UP: __asm__("roundsd $0xa, %1, %0" : "=x"(result) : "x"(x)); break;
    case ROUND_TRUNCATE: __asm__("roundsd $0xb, %1, %0" : "=x"(result) : "x"(x)); break;
    default: __asm__("roundsd $0xc, %1, %0" : "=x"(result) : "x"(x)); break;
    }
    return result;
}

double fabs(double x) { return double_of(bits_of(x) & ~(UINT64_C(1) << 63)); }
double copysign(double magnitude, double sign)
{
    return double_of((bits_of(magnitude) & ~(UINT64_C(1) << 63)) | (bits_of(sign) & (UINT64_C(1) << 63)));
}
double floor(double x) { return round_mode(x, ROUND_DOWN); }
double ceil(double x) { return round_mode(x, ROUND_UP); }
double trunc(double x) { return round_mode(x, ROUND_TRUNCATE); }
double nearbyint(double x) { return round_mode(x, ROUND_CURRENT); }

double round(double x)
{
    double t = trunc(x);
    /* x - t is exact (both share the exponent range of x). */
    if (fabs(x - t) >= 0.5)
        t += copysign(1.0, x);
    return t;
}

double sqrt(double x)
{
    double result;
    __asm__("sqrtsd %1, %0" : "=x"(result) : "x"(x));
    return result;
}

/* C's fmin/fmax: a NaN argument loses to a number. */
double fmin(double a, double b)
{
    if (a != a)
        return b;
    if (b != b)
        return a;
    return a < b ? a : b;
}

double fmax(double a, double b)
{
    if (a != a)
        return b;
    if (b != b)
        return a;
    return a > b ? a : b;
}

/* 2^k for -1074 <= k <= 1023 as a double, k outside gives 0 or inf. */
static double scale_by_power_of_two(double x, int k)
{
    /* Two steps keep every intermediate factor a normal number. */
    while (k > 1023) {
        x *= 0x1p1023;
        k -= 1023;
        if (x == HUGE_VAL || x == -HUGE_VAL)
            return x;
    }
    while (k < -1022) {
        x *= 0x1p-1022;
        k += 1022;
        if (x == 0)
            return x;
    }
    return x * double_of((uint64_t)(k + 1023) << 52);
}

static const double ln2_hi = 0x1.62e42fee00000p-1; /* low 32 bits zero: k * ln2_hi is exact */
static const double ln2_lo = 0x1.a39ef35793c76p-33;

double exp(double x)
{
    if (x != x)
        return x;
    if (x > 709.782712893384)
        return HUGE_VAL;
    if (x < -745.1332191019412)
        return 0;
    double k = round_mode(x * 0x1.71547652b82fep0, ROUND_NEAREST); /* x / ln 2 */
    double r = (x - k * ln2_hi) - k * ln2_lo;                      /* |r| <= 0.35 */
    /* exp(r) = sum r^n/n!, n <= 14: the tail is below 2^-60. */
    double sum = 1.0 / 87178291200.0;
    static const double inverse_factorials[] = {
        1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
        1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0,
    };
    for (unsigned i = 0; i < sizeof(inverse_factorials) / sizeof(inverse_factorials[0]); ++i)
        sum = sum * r + inverse_factorials[i];
    return scale_by_power_of_two(sum, (int)k);
}

double log(double x)
{
    if (x != x)
        return x;
    if (x < 0)
        return NAN;
    if (x == 0)
        return -HUGE_VAL;
    if (x == HUGE_VAL)
        return x;
    int k = 0;
    uint64_t bits = bits_of(x);
    if ((bits >> 52) == 0) { /* subnormal */
        x *= 0x1p54;
        k = -54;
        bits = bits_of(x);
    }
    k += (int)(bits >> 52) - 1023;
    double m = double_of((bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1023) << 52)); /* [1, 2) */
    if (m > 1.4142135623730951) {
        m *= 0.5;
        ++k;
    }
    /* log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716. */
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double s2 = s * s;
    double series = 1.0 / 25.0;
    for (int n = 23; n >= 3; n -= 2)
        series = series * s2 + 1.0 / n;
    double log_m = 2.0 * s + 2.0 * s * s2 * series;
    return k * ln2_hi + (k * ln2_lo + log_m);
}

double log2(double x) { return log(x) * 1.4426950408889634; }

static int is_integer(double y) { return trunc(y) == y && fabs(y) != HUGE_VAL; }

double pow(double x, double y)
{
    if (y == 0 || x == 1)
        return 1.0;
    if (x != x || y != y)
        return x + y;
    double sign = 1.0;
    if (x < 0 || (x == 0 && bits_of(x) >> 63)) {
        if (x != 0 && fabs(x) != HUGE_VAL && !is_integer(y))
            return NAN;
        if (is_integer(y) && fabs(y) < 0x1p53 && fabs(trunc(y * 0.5) * 2.0 - y) == 1.0)
            sign = -1.0;
        x = -x;
    }
    if (x == 0)
        return y > 0 ? sign * 0.0 : sign * HUGE_VAL;
    if (x == HUGE_VAL)
        return y > 0 ? sign * HUGE_VAL : sign * 0.0;
    if (fabs(y) == HUGE_VAL) {
        if (x == 1)
            return 1.0;
        return (x > 1) == (y > 0) ? HUGE_VAL : 0.0;
    }
    /* Integer powers of a power of two are exact. */
    uint64_t x_bits = bits_of(x);
    if (is_integer(y) && (x_bits & ((UINT64_C(1) << 52) - 1)) == 0 && (x_bits >> 52) != 0) {
        double exponent = (double)((int)(x_bits >> 52) - 1023) * y;
        if (exponent > 1100)
            return sign * HUGE_VAL;
        if (exponent < -1100)
            return sign * 0.0;
        return scale_by_power_of_two(sign, (int)exponent);
    }
    /* Small integer powers by squaring: exact whenever the result is (10^k
     * up to 10^22, which number parsers need exactly). */
    if (is_integer(y) && fabs(y) <= 64) {
        unsigned n = (unsigned)fabs(y);
        double result = 1.0, base = x;
        while (n) {
            if (n & 1)
                result *= base;
            base *= base;
            n >>= 1;
        }
        if (y < 0) {
            if (result == HUGE_VAL) /* 1/inf would lose a subnormal result */
                return sign * exp(y * log(x));
            result = 1.0 / result;
        }
        return sign * result;
    }
    return sign * exp(y * log(x));
}

/* pi/2 in three parts of 33 bits (fdlibm's pio2_1, pio2_2, pio2_3): k * part
 * is exact for |k| < 2^20. */
static const double pio2_1 = 1.57079632673412561417e+00;
static const double pio2_2 = 6.07710050630396597660e-11;
static const double pio2_3 = 2.02226624871116645580e-21;
static const double pio2_3t = 8.47842766036889956997e-32;

/* sin and cos of |r| <= pi/4 by Taylor series (tail below 2^-58). */
static double sin_kernel(double r)
{
    double r2 = r * r;
    double sum = -1.0 / 121645100408832000.0; /* -1/19! */
    static const double coefficients[] = {
        1.0 / 355687428096000.0, -1.0 / 1307674368000.0, 1.0 / 6227020800.0, -1.0 / 39916800.0,
        1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0,
    };
    for (unsigned i = 0; i < sizeof(coefficients) / sizeof(coefficients[0]); ++i)
        sum = sum * r2 + coefficients[i];
    return r + r * r2 * sum;
}

static double cos_kernel(double r)
{
    double r2 = r * r;
    double sum = -1.0 / 6402373705728000.0; /* -1/18! */
    static const double coefficients[] = {
        1.0 / 20922789888000.0, -1.0 / 87178291200.0, 1.0 / 479001600.0, -1.0 / 3628800.0,
        1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0,
    };
    for (unsigned i = 0; i < sizeof(coefficients) / sizeof(coefficients[0]); ++i)
        sum = sum * r2 + coefficients[i];
    double half = 0.5 * r2;
    double w = 1.0 - half;
    /* 1 - r^2/2 + r^4 * sum, with the rounding of 1 - half added back. */
    return w + (((1.0 - w) - half) + r2 * r2 * sum);
}

/* x = k * pi/2 + r; returns r and the quadrant k mod 4. */
static double reduce_half_pi(double x, int* quadrant)
{
    double k = round_mode(x * 0x1.45f306dc9c883p-1, ROUND_NEAREST); /* x * 2/pi */
    double r = ((x - k * pio2_1) - k * pio2_2) - k * pio2_3;
    r -= k * pio2_3t;
    double k_mod_4 = k - 4.0 * floor(k * 0.25);
    *quadrant = (int)k_mod_4;
    return r;
}

double sin(double x)
{
    if (x != x || fabs(x) == HUGE_VAL)
        return x - x;
    if (fabs(x) <= 0.7853981633974483)
        return sin_kernel(x);
    int quadrant;
    double r = reduce_half_pi(x, &quadrant);
    switch (quadrant) {
    case 0: return sin_kernel(r);
    case 1: return cos_kernel(r);
    case 2: return -sin_kernel(r);
    default: return -cos_kernel(r);
    }
}

double cos(double x)
{
    if (x != x || fabs(x) == HUGE_VAL)
        return x - x;
    if (fabs(x) <= 0.7853981633974483)
        return cos_kernel(x);
    int quadrant;
    double r = reduce_half_pi(x, &quadrant);
    switch (quadrant) {
    case 0: return cos_kernel(r);
    case 1: return -sin_kernel(r);
    case 2: return -cos_kernel(r);
    default: return sin_kernel(r);
    }
}

/* exp(x) - 1 for |x| <= 1.1 without cancellation: Taylor series to x^21. */
static double expm1_small(double x)
{
    /* x (1 + x/2 (1 + x/3 (1 + ... (1 + x/21)))) */
    double sum = 1.0;
    for (int n = 21; n >= 2; --n)
        sum = 1.0 + sum * x / n;
    return x * sum;
}

double tanh(double x)
{
    if (x != x)
        return x;
    double a = fabs(x);
    if (a > 22.0)
        return copysign(1.0, x);
    if (a < 0x1p-28)
        return x;
    double t;
    if (a < 0.55) {
        double u = expm1_small(2.0 * a);
        t = u / (u + 2.0);
    } else {
        t = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    }
    return copysign(t, x);
}

float fabsf(float x) { return (float)fabs(x); }
float copysignf(float magnitude, float sign) { return (float)copysign(magnitude, sign); }
float floorf(float x) { return (float)floor(x); }
float ceilf(float x) { return (float)ceil(x); }
float truncf(float x) { return (float)trunc(x); }
float roundf(float x) { return (float)round(x); }
float nearbyintf(float x) { return (float)nearbyint(x); }
float fminf(float a, float b) { return (float)fmin(a, b); }
float fmaxf(float a, float b) { return (float)fmax(a, b); }
float sqrtf(float x)
{
    float result;
    __asm__("sqrtss %1, %0" : "=x"(result) : "x"(x));
    return result;
}
float expf(float x) { return (float)exp(x); }
float logf(float x) { return (float)log(x); }
float log2f(float x) { return (float)log2(x); }
float powf(float x, float y) { return (float)pow(x, y); }
float sinf(float x) { return (float)sin(x); }
float cosf(float x) { return (float)cos(x); }
float tanhf(float x) { return (float)tanh(x); }
