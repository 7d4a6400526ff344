/* neai_types.h - configuration of the runtime components.
 *
 * Every component is a pair: a const configuration (generated per library, or
 * filled at run time by the host search build) and caller-owned state. No
 * component allocates memory or calls the platform's maths library, so the host
 * build and the Cortex-M build give bit-identical results (compiled with
 * -ffp-contract=off on both).
 */
#ifndef NEAI_TYPES_H
#define NEAI_TYPES_H

#include <stdint.h>

/* ---- preprocessing ------------------------------------------------------- */
enum neai_pre_kind {
    NEAI_PRE_RAW = 1,      /* per-axis normalised raw buffer, optionally decimated  */
    NEAI_PRE_FFT = 2,      /* per-axis power spectrum pooled into bands             */
    NEAI_PRE_STATS = 3,    /* per-axis statistical features                         */
    NEAI_PRE_SPECTRAL = 4, /* per-axis spectral statistics (+ optional STATS block) */
    NEAI_PRE_COV = 5       /* covariance matrix of the axes, upper triangle          */
};

enum neai_pre_norm {
    NEAI_NORM_NONE = 0,
    NEAI_NORM_ZSCORE = 1,   /* RAW: (x - mean) / std per axis        */
    NEAI_NORM_MAXABS = 2,   /* RAW: x / max|x| per axis              */
    NEAI_NORM_CENTER = 3,   /* RAW: x - mean per axis                */
    NEAI_NORM_RELATIVE = 4  /* FFT: bands divided by the axis energy */
};

#define NEAI_STATS_PER_AXIS 10u
/* SPECTRAL, per axis: log energy, centroid, spread, log flatness, roll-off,
 * peak frequency, entropy; then `bands` band-energy ratios. */
#define NEAI_SPECTRAL_PER_AXIS 7u

/* FFT and SPECTRAL work on the power spectrum of each axis averaged over
 * nb_segments segments of seg_len samples starting every seg_hop samples
 * (Welch's method; the search uses seg_hop = seg_len, Bartlett's; one segment
 * of buffer_size samples is the plain spectrum).
 * Each segment has its own mean removed and is windowed before its FFT. Bin k
 * (0 <= k <= seg_len/2) is the frequency k / (seg_len/2) of Nyquist. Only bins
 * band_edges[0] .. band_edges[last] - 1 are used: that is the pass band. */
typedef struct {
    uint16_t kind;         /* enum neai_pre_kind                                       */
    uint16_t nb_axes;
    uint16_t buffer_size;  /* samples per axis; a power of two for FFT and SPECTRAL     */
    uint16_t nb_features;  /* length of the feature vector produced                     */
    uint16_t decim;        /* RAW: keep one sample in `decim`                           */
    uint16_t norm;         /* enum neai_pre_norm                                        */
    uint16_t bands;        /* FFT: number of bands; SPECTRAL: band-energy ratios (>= 0) */
    uint16_t log_scale;    /* FFT: 1 = natural log of (band power + floor)              */
    uint16_t seg_len;      /* FFT, SPECTRAL: samples per segment, a power of two >= 4   */
    uint16_t seg_hop;      /* FFT, SPECTRAL: samples between segment starts             */
    uint16_t nb_segments;  /* FFT, SPECTRAL: (nb_segments-1)*seg_hop + seg_len <= buffer_size */
    uint16_t time_stats;   /* SPECTRAL: 1 = the STATS features of every axis follow     */
    uint16_t cross;        /* STATS: 1 = the correlation of every pair of axes follows  *
                            * (axes*(axes-1)/2 values, pairs (0,1), (0,2).. (1,2)..);   *
                            * COV: 1 = standard deviations on the diagonal and          *
                            * correlations off it, 0 = variances and covariances        */
    uint16_t fixed;        /* FFT, SPECTRAL: 1 = the power spectrum is computed in      *
                            * fixed point (integer FFT, itwiddle/iwindow tables): the   *
                            * cheap spectrum for cores without an FPU                   */
    const float *twiddle;  /* FFT, SPECTRAL: seg_len/2 pairs (cos, -sin)                */
    const float *window;   /* FFT, SPECTRAL: seg_len coefficients, or 0 for rectangular */
    const uint16_t *band_edges; /* FFT: bands + 1 bin indices, first >= 1; SPECTRAL:
                                 * max(bands, 1) + 1 (the pass band alone when 0 bands) */
    const uint16_t *bitrev;     /* FFT, SPECTRAL: bit-reversal permutation of seg_len/2 points */
    const int16_t *itwiddle;    /* fixed: the twiddles in Q14 (round(16384 cos), round(-16384 sin)) */
    const int16_t *iwindow;     /* fixed: the window in Q15 (round(32767 w)), or 0 for rectangular */
} neai_pre_cfg;

/* ---- frequency filter (the project's, applied before the preprocessing) -- */
/* A cascade of `sections` biquads (2nd-order IIR sections) run on each axis of
 * a buffer, from the steady state of the axis's first sample (no start-up
 * transient on a constant signal). Per section: coeffs b0 b1 b2 a1 a2 (a0 = 1)
 * and zi, the transposed direct form II state after a unit step (2 values). */
typedef struct {
    uint16_t nb_axes;
    uint16_t buffer_size;
    uint16_t sections;
    const float *coeffs; /* 5 per section */
    const float *zi;     /* 2 per section */
} neai_filter_cfg;

/* Scratch needed by neai_pre_features, in floats, at most: one segment, plus
 * the spectrum accumulator when there are several (2 * seg_len <= buffer_size);
 * a library's generated NEAI_CFG_WORK_FLOATS is the exact figure. */
#define NEAI_PRE_WORK_FLOATS(buffer_size) ((uint32_t)(buffer_size))

/* ---- anomaly-detection models (learn on the device) ---------------------- */
enum neai_model_kind {
    NEAI_MODEL_GAUSS = 1,  /* running mean/variance, diagonal Mahalanobis distance */
    NEAI_MODEL_PROTO = 2   /* bounded prototype memory (online agglomerative)      */
};

typedef struct {
    uint16_t kind;    /* enum neai_model_kind                                    */
    uint16_t dim;     /* feature vector length                                   */
    uint16_t k;       /* PROTO: prototype slots                                  */
    uint16_t warmup;  /* learned samples before the distance calibration starts  */
    float reg;        /* variance floor, as a fraction of the mean variance      */
    float calib;      /* reference distance = mean + calib * std of learned ones */
} neai_model_cfg;

/* State sizes in floats (the knowledge kept in the .neai section). */
#define NEAI_CAL_FLOATS 3u
#define NEAI_GAUSS_STATE_FLOATS(dim) (1u + 2u * (uint32_t)(dim) + NEAI_CAL_FLOATS)
#define NEAI_PROTO_STATE_FLOATS(dim, k) \
    (2u + 2u * (uint32_t)(dim) + (uint32_t)(k) * ((uint32_t)(dim) + 1u) + NEAI_CAL_FLOATS)

#endif /* NEAI_TYPES_H */
