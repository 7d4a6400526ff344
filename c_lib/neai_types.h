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
/* Every model keeps order-independent knowledge (sums, exact merges of
 * sufficient statistics, counts) and derives its reference distance from that
 * knowledge at detect time, never from the history of what it learned: the
 * same lines learned in any order give (nearly) the same decisions. See
 * neai_models.c. */
enum neai_model_kind {
    NEAI_MODEL_GAUSS = 1, /* diagonal Gaussian of the learned data (robust union of clusters)     */
    NEAI_MODEL_PROTO = 2, /* bounded prototypes: Ward agglomeration with exact per-prototype scatter */
    NEAI_MODEL_COV = 3,   /* full covariance: Mahalanobis distance (Hotelling T2), shrinkage      */
    NEAI_MODEL_HST = 4,   /* half-space trees: leaf counts of fixed random trees                 */
    NEAI_MODEL_KNN = 5    /* nearest-neighbour memory with local radii, optional shift tolerance */
};

typedef struct {
    uint16_t kind;   /* enum neai_model_kind                                               */
    uint16_t dim;    /* feature vector length                                              */
    uint16_t k;      /* PROTO, KNN: slots; GAUSS, COV: internal clusters; HST: trees        */
    uint16_t depth;  /* HST: tree depth (leaves per tree = 2^depth); KNN: largest shift     */
    uint16_t blocks; /* KNN: the features are `blocks` equal blocks (axes) shifted together */
    uint16_t pad;
    float reg;       /* variance floor as a fraction of the mean variance (COV: shrinkage)  */
    float calib;     /* decision distance = calib x the reference distance (similarity 90)  */
    const uint16_t *split_dim; /* HST: feature of each internal node, trees x (2^depth - 1)  */
    const float *split_at;     /* HST: threshold of each internal node, same layout          */
} neai_model_cfg;

/* The largest feature magnitude learn() takes: squares and sums of squares of
 * such values over 2^24 examples stay finite in float32. */
#define NEAI_FEATURE_LIMIT 1.0e15f
/* Counts stop growing here: learning on halves every count and sum first (the
 * means and variances stay, the knowledge keeps learning and stays finite). */
#define NEAI_COUNT_CAP 8388608.0f

/* Knowledge sizes in floats (the .neai section). Clusters (GAUSS, PROTO, KNN):
 * [n, used, then per slot w, mean[dim], m2[dim]], KNN also r2 per slot. */
#define NEAI_CSET_HEADER 2u
#define NEAI_CLUSTER_FLOATS(dim) (1u + 2u * (uint32_t)(dim))
#define NEAI_GAUSS_CLUSTERS 4u
#define NEAI_COV_CLUSTERS 3u
#define NEAI_COV_TRI(dim) ((uint32_t)(dim) * ((uint32_t)(dim) + 1u) / 2u)

/* ---- input guard (the library's API, learn() only) ----------------------- */
/* A buffer learn() refuses, leaving the knowledge as it was: a sample outside
 * [lo, hi] of its axis (the project's nominal range widened by a margin), or
 * with `needs_variance`, an axis whose samples are all equal. */
typedef struct {
    uint16_t nb_axes;
    uint16_t buffer_size;
    uint16_t needs_variance;
    uint16_t pad;
    const float *lo; /* per axis, or 0: no range check */
    const float *hi;
} neai_guard_cfg;

#endif /* NEAI_TYPES_H */
