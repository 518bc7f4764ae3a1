/* Host test of src/math.c against the host libm (glibc): the SDK's math
 * is compiled with its public names prefixed by sdk_ (sdk-math-test in
 * sdk.mk). Float functions must stay within 1 ulp of glibc's and agree
 * exactly on nearly every input; double functions within a stated
 * relative error. Run: make -f rpk/sdk/sdk.mk sdk-math-test */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SDK_DOUBLE_1(name) double sdk_##name(double);
#define SDK_FLOAT_1(name) float sdk_##name##f(float);
SDK_DOUBLE_1(exp) SDK_DOUBLE_1(log) SDK_DOUBLE_1(log2) SDK_DOUBLE_1(sin) SDK_DOUBLE_1(cos) SDK_DOUBLE_1(tanh)
SDK_DOUBLE_1(sqrt) SDK_DOUBLE_1(fabs) SDK_DOUBLE_1(floor) SDK_DOUBLE_1(ceil) SDK_DOUBLE_1(trunc) SDK_DOUBLE_1(round)
SDK_DOUBLE_1(nearbyint)
SDK_FLOAT_1(exp) SDK_FLOAT_1(log) SDK_FLOAT_1(log2) SDK_FLOAT_1(sin) SDK_FLOAT_1(cos) SDK_FLOAT_1(tanh)
SDK_FLOAT_1(sqrt) SDK_FLOAT_1(fabs) SDK_FLOAT_1(floor) SDK_FLOAT_1(ceil) SDK_FLOAT_1(trunc) SDK_FLOAT_1(round)
SDK_FLOAT_1(nearbyint)
double sdk_pow(double, double);
float sdk_powf(float, float);
double sdk_fmin(double, double);
double sdk_fmax(double, double);

static int failures;
static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}
static double uniform(double lo, double hi) { return lo + (hi - lo) * ((double)(next_random() >> 11) * 0x1p-53); }

/* Distance in units in the last place between two floats (NaN == NaN). */
static int64_t float_ulps(float a, float b)
{
    if (isnan(a) && isnan(b))
        return 0;
    if (isnan(a) || isnan(b))
        return INT64_MAX;
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

static void check_float(const char* name, float (*ours)(float), float (*theirs)(float), double lo, double hi, int count)
{
    int64_t worst = 0;
    int exact = 0;
    float worst_x = 0;
    for (int i = 0; i < count; ++i) {
        float x = (float)uniform(lo, hi);
        int64_t d = float_ulps(ours(x), theirs(x));
        if (d == 0)
            ++exact;
        if (d > worst) {
            worst = d;
            worst_x = x;
        }
    }
    double exact_share = (double)exact / count;
    int ok = worst <= 1 && exact_share >= 0.999;
    printf("%-11s [%g, %g]: max %lld ulp (at %a), %.5f%% exact %s\n", name, lo, hi, (long long)worst, worst_x,
        100 * exact_share, ok ? "ok" : "FAIL");
    if (!ok)
        ++failures;
}

static void check_double(const char* name, double (*ours)(double), double (*theirs)(double), double lo, double hi, int count,
    double max_error)
{
    double worst = 0, worst_x = 0;
    for (int i = 0; i < count; ++i) {
        double x = uniform(lo, hi);
        double a = ours(x), b = theirs(x);
        double error = b == 0 ? fabs(a) : fabs(a - b) / fabs(b);
        if (isnan(a) != isnan(b))
            error = INFINITY;
        if (error > worst) {
            worst = error;
            worst_x = x;
        }
    }
    int ok = worst <= max_error;
    printf("%-11s [%g, %g]: max relative error %.3g (at %a) %s\n", name, lo, hi, worst, worst_x, ok ? "ok" : "FAIL");
    if (!ok)
        ++failures;
}

static void expect(const char* what, int condition)
{
    if (!condition) {
        printf("FAIL: %s\n", what);
        ++failures;
    }
}

/* The references: glibc's float functions are not all correctly rounded
 * (logf 0.82 ulp, tanhf 2 ulp), so ours are compared with glibc's double
 * function rounded to float, which is correctly rounded in practice. */
#define HOST_F(name) static float host_##name##f(float x) { return (float)name((double)x); }
#define HOST_D(name) static double host_##name(double x) { return name(x); }
HOST_F(exp) HOST_F(log) HOST_F(log2) HOST_F(sin) HOST_F(cos) HOST_F(tanh) HOST_F(sqrt) HOST_F(floor)
HOST_F(ceil) HOST_F(trunc) HOST_F(round) HOST_F(nearbyint) HOST_F(fabs)
HOST_D(exp) HOST_D(log) HOST_D(sin) HOST_D(cos) HOST_D(tanh) HOST_D(sqrt)
static float host_pow_2_5(float x) { return (float)pow(x, 2.5); }
static float sdk_pow_2_5(float x) { return sdk_powf(x, 2.5f); }
static double host_rope(double i) { return pow(10000.0, i / 64.0); }
static double sdk_rope(double i) { return sdk_pow(10000.0, i / 64.0); }

int main(void)
{
    const int n = 400000;
    check_float("expf", sdk_expf, host_expf, -103, 88.7, n);
    check_float("expf", sdk_expf, host_expf, -1, 1, n);
    check_float("logf", sdk_logf, host_logf, 1e-30, 1e30, n);
    check_float("logf", sdk_logf, host_logf, 0.5, 2, n);
    check_float("log2f", sdk_log2f, host_log2f, 1e-6, 1e6, n);
    check_float("sinf", sdk_sinf, host_sinf, -100, 100, n);
    check_float("sinf", sdk_sinf, host_sinf, -5000, 5000, n);
    check_float("cosf", sdk_cosf, host_cosf, -100, 100, n);
    check_float("cosf", sdk_cosf, host_cosf, -5000, 5000, n);
    check_float("tanhf", sdk_tanhf, host_tanhf, -12, 12, n);
    check_float("tanhf", sdk_tanhf, host_tanhf, -0.6, 0.6, n);
    check_float("tanhf", sdk_tanhf, host_tanhf, -1e-3, 1e-3, n);
    check_float("sqrtf", sdk_sqrtf, host_sqrtf, 0, 1e10, n);
    check_float("powf(x,2.5)", sdk_pow_2_5, host_pow_2_5, 0, 1000, n);
    check_float("floorf", sdk_floorf, host_floorf, -1e6, 1e6, n);
    check_float("ceilf", sdk_ceilf, host_ceilf, -1e6, 1e6, n);
    check_float("truncf", sdk_truncf, host_truncf, -1e6, 1e6, n);
    check_float("roundf", sdk_roundf, host_roundf, -100, 100, n);
    check_float("nearbyintf", sdk_nearbyintf, host_nearbyintf, -100, 100, n);
    check_float("fabsf", sdk_fabsf, host_fabsf, -100, 100, n);
    check_double("exp", sdk_exp, host_exp, -700, 700, n, 4e-16);
    check_double("exp", sdk_exp, host_exp, -740, -709, n / 10, 1e-12); /* subnormal results */
    check_double("log", sdk_log, host_log, 1e-300, 1e300, n, 4e-16);
    check_double("log", sdk_log, host_log, 0.9, 1.1, n, 1e-15);
    check_double("sin", sdk_sin, host_sin, -4, 4, n, 4e-16);
    check_double("sin", sdk_sin, host_sin, -1e5, 1e5, n, 1e-15);
    check_double("cos", sdk_cos, host_cos, -1e5, 1e5, n, 1e-15);
    check_double("tanh", sdk_tanh, host_tanh, -20, 20, n, 1e-15);
    check_double("sqrt", sdk_sqrt, host_sqrt, 0, 1e300, n, 0);
    check_double("pow(1e4,i/64)", sdk_rope, host_rope, 0, 64, n, 4e-15);

    /* Exact and special values. */
    for (int k = -22; k <= 22; ++k)
        expect("pow(10, k) exact for |k| <= 22", sdk_pow(10.0, k) == pow(10.0, k));
    expect("pow(-2, 3) = -8", sdk_pow(-2.0, 3.0) == -8.0);
    expect("pow(-2, 0.5) is NaN", isnan(sdk_pow(-2.0, 0.5)));
    expect("pow(0, -1) = inf", sdk_pow(0.0, -1.0) == INFINITY);
    expect("pow(x, 0) = 1", sdk_pow(NAN, 0.0) == 1.0);
    expect("pow(2, 1024) = inf", sdk_pow(2.0, 1024.0) == INFINITY);
    expect("pow(2, -1074) is the smallest subnormal", sdk_pow(2.0, -1074.0) == 0x1p-1074);
    expect("exp(-inf) = 0", sdk_exp(-INFINITY) == 0);
    expect("exp(inf) = inf", sdk_exp(INFINITY) == INFINITY);
    expect("exp(nan) is NaN", isnan(sdk_exp(NAN)));
    expect("log(0) = -inf", sdk_log(0) == -INFINITY);
    expect("log(-1) is NaN", isnan(sdk_log(-1)));
    expect("log(subnormal)", fabs(sdk_log(0x1p-1070) - log(0x1p-1070)) < 1e-12);
    expect("expf(-inf) = 0", sdk_expf(-INFINITY) == 0);
    expect("tanh(+-inf) = +-1", sdk_tanh(INFINITY) == 1 && sdk_tanh(-INFINITY) == -1);
    expect("sin(inf) is NaN", isnan(sdk_sin(INFINITY)));
    expect("fmax(nan, 1) = 1", sdk_fmax(NAN, 1) == 1 && sdk_fmin(2, NAN) == 2);
    expect("round(2.5) = 3, round(-2.5) = -3", sdk_round(2.5) == 3 && sdk_round(-2.5) == -3 && sdk_round(0.49999999999999994) == 0);
    expect("nearbyint(2.5) = 2 (ties to even)", sdk_nearbyint(2.5) == 2 && sdk_nearbyint(3.5) == 4);
    expect("floor(-0.5) = -1", sdk_floor(-0.5) == -1 && sdk_ceil(-0.5) == 0);

    printf(failures ? "math_test: %d FAILED\n" : "math_test: all passed\n", failures);
    return failures ? 1 : 0;
}
