/* aiSOS module SDK: the <math.h> subset (src/math.c).
 *
 * Accuracy: the float functions are computed in double and rounded once,
 * so they are correctly rounded except in rare cases within 2^-52 of a
 * rounding boundary (then 1 ulp). The double functions are accurate to a
 * few ulp (pow: to about 1e-15 relative; sin/cos: arguments up to 2^20
 * keep full accuracy, larger ones lose it gradually). errno is never set;
 * domain errors give NaN, overflow gives +-HUGE_VAL. */
#ifndef AISOS_MATH_H
#define AISOS_MATH_H

#ifdef __cplusplus
extern "C" {
#endif

#define HUGE_VAL (__builtin_huge_val())
#define HUGE_VALF (__builtin_huge_valf())
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))

typedef float float_t;
typedef double double_t;

#ifndef __cplusplus
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#define isfinite(x) __builtin_isfinite(x)
#define signbit(x) __builtin_signbit(x)
#endif

double exp(double x);
double log(double x);
double log2(double x);
double pow(double x, double y);
double sin(double x);
double cos(double x);
double tanh(double x);
double sqrt(double x);
double fabs(double x);
double floor(double x);
double ceil(double x);
double trunc(double x);
double round(double x);
double nearbyint(double x);
double fmin(double a, double b);
double fmax(double a, double b);
double copysign(double magnitude, double sign);

float expf(float x);
float logf(float x);
float log2f(float x);
float powf(float x, float y);
float sinf(float x);
float cosf(float x);
float tanhf(float x);
float sqrtf(float x);
float fabsf(float x);
float floorf(float x);
float ceilf(float x);
float truncf(float x);
float roundf(float x);
float nearbyintf(float x);
float fminf(float a, float b);
float fmaxf(float a, float b);
float copysignf(float magnitude, float sign);

#ifdef __cplusplus
}
#endif

#endif
