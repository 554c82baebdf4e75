/*
 * ltrr - int8 vector quantization and inner products (vec_dot.h).
 *
 * The AVX2 kernel multiplies 32 codes at a time: |a| (unsigned) times b
 * with a's sign (vpmaddubsw), pairs summed to 16 bits, then to 32 bits
 * (vpmaddwd). Codes are limited to -127..127, so a pair is at most
 * 2 * 127 * 127 = 32,258 and the 16-bit step never saturates: the sum is
 * exact and equal to the scalar loop's.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "vec_dot.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define VEC_X86 1
#else
#define VEC_X86 0
#endif

float ltrr_vec_quantize_i8(const float *x, uint32_t dim, int8_t *codes)
{
        float m = 0;
        int ints = 1;
        for (uint32_t i = 0; i < dim; i++) {
                float a = isfinite(x[i]) ? fabsf(x[i]) : 0.0f;
                if (a > m)
                        m = a;
                ints &= !isfinite(x[i]) || x[i] == rintf(x[i]);
        }
        if (m == 0) {
                memset(codes, 0, dim);
                return 0;
        }
        /* in doubles: 127 / m stays finite even for a subnormal m */
        double f = ints && m <= 127.0f ? 1.0 : 127.0 / (double)m;
        int64_t ss = 0;
        for (uint32_t i = 0; i < dim; i++) {
                double y = isfinite(x[i]) ? rint((double)x[i] * f) : 0.0;
                int c = y > 127.0 ? 127 : y < -127.0 ? -127 : (int)y;
                codes[i] = (int8_t)c;
                ss += (int64_t)c * c;
        }
        return ss ? (float)(1.0 / sqrt((double)ss)) : 0.0f;
}

int32_t ltrr_vec_dot_i8_scalar(const int8_t *a, const int8_t *b,
                               uint32_t dim)
{
        int32_t s = 0;
        for (uint32_t i = 0; i < dim; i++)
                s += (int32_t)a[i] * b[i];
        return s;
}

#if VEC_X86
/* 32 codes per step, then 16, then one at a time. */
__attribute__((target("avx2"))) static int32_t
dot_avx2(const int8_t *a, const int8_t *b, uint32_t dim)
{
        const __m256i ones = _mm256_set1_epi16(1);
        __m256i acc = _mm256_setzero_si256();
        uint32_t i = 0;
        for (; i + 32 <= dim; i += 32) {
                __m256i x = _mm256_loadu_si256((const __m256i *)(a + i));
                __m256i y = _mm256_loadu_si256((const __m256i *)(b + i));
                __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x),
                                                 _mm256_sign_epi8(y, x));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
        }
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc),
                                  _mm256_extracti128_si256(acc, 1));
        if (i + 16 <= dim) {
                __m128i x = _mm_loadu_si128((const __m128i *)(a + i));
                __m128i y = _mm_loadu_si128((const __m128i *)(b + i));
                __m128i p = _mm_maddubs_epi16(_mm_sign_epi8(x, x),
                                              _mm_sign_epi8(y, x));
                s = _mm_add_epi32(s, _mm_madd_epi16(p, _mm_set1_epi16(1)));
                i += 16;
        }
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
        int32_t r = _mm_cvtsi128_si32(s);
        for (; i < dim; i++)
                r += (int32_t)a[i] * b[i];
        return r;
}
#endif

/* 0: not chosen yet, 1: scalar, 2: AVX2. Threads racing on the first
 * call store the same value. */
static atomic_int vec_impl;

static int impl_choose(void)
{
        int c = atomic_load_explicit(&vec_impl, memory_order_relaxed);
        if (c)
                return c;
        c = 1;
#if VEC_X86
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2"))
                c = 2;
#endif
        atomic_store_explicit(&vec_impl, c, memory_order_relaxed);
        return c;
}

int32_t ltrr_vec_dot_i8(const int8_t *a, const int8_t *b, uint32_t dim)
{
#if VEC_X86
        if (impl_choose() == 2)
                return dot_avx2(a, b, dim);
#endif
        return ltrr_vec_dot_i8_scalar(a, b, dim);
}

ltrr_vec_dot_fn ltrr_vec_dot_i8_best(void)
{
#if VEC_X86
        if (impl_choose() == 2)
                return dot_avx2;
#endif
        return ltrr_vec_dot_i8_scalar;
}

const char *ltrr_vec_dot_impl(void)
{
        return impl_choose() == 2 ? "avx2" : "scalar";
}
