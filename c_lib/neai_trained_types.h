/* neai_trained_types.h - configuration of the trained models (1-class, n-class
 * classification, extrapolation): libraries trained on the host, which only
 * infer on the device.
 *
 * A trained model is a const configuration (sizes, generated per library) and a
 * const knowledge buffer (every learned number, in knowledge.h) passed to the
 * library's init. Inference = fitted transform (standardisation, then optional
 * PCA projection) + one algorithm + one output step. Everything is float32;
 * integers in the knowledge (tree children, feature indices, labels) are stored
 * as floats, exact below 2^24.
 *
 * Knowledge layout (floats):
 *   [0] NEAI_TKNOWLEDGE_MAGIC, [1] NEAI_TKNOWLEDGE_VERSION, [2] total floats,
 *   [3] library hash: FNV-1a (32-bit, over the float bit patterns of every
 *       other slot, in order) folded to 24 bits, exact as a float,
 *   [4] one-class threshold (outlier when score > threshold; else 0), then
 *   transform:  scale: mean[n_in], inv_std[n_in]
 *               pca:   proj[n_z][n_in], offset[n_z]           (z = proj x + offset)
 *   algorithm (a, b, c = size_a, size_b, size_c):
 *     LINEAR  w[n_raw][n_z], bias[n_raw]
 *     FOREST  roots[a], nodes[b][4] = (feature, threshold, left, right), leaves[c][n_raw]
 *             a child/root handle h >= 0 is a node, h < 0 the leaf -(h + 1);
 *             go left when z[feature] <= threshold
 *     PROTO   coef, protos[a][n_z], group[a]      raw[g] = coef * min dist^2 in group g
 *     MLP     w1[a][n_z], b1[a], w2[n_raw][a], b2[n_raw]    (one ReLU hidden layer)
 *     GAUSS   const[a], mean[a][n_z], half_inv_var[a][n_z]   (a == n_raw components)
 *             raw[m] = const[m] - sum half_inv_var[m] (z - mean[m])^2
 *     KERNEL  neg_gamma, bias, alpha[a], sv[a][n_z]  raw = sum alpha exp(neg_gamma |z - sv|^2) + bias
 *     QUAD    mean[n_z], m[a][n_z]                   raw = |m (z - mean)|^2
 *     KNN     y[a], points[a][n_z]; b = k            raw = mean y of the k nearest
 */
#ifndef NEAI_TRAINED_TYPES_H
#define NEAI_TRAINED_TYPES_H

#include <stdint.h>

#define NEAI_TKNOWLEDGE_MAGIC 20037.0f
#define NEAI_TKNOWLEDGE_VERSION 1.0f
#define NEAI_TKNOWLEDGE_HEADER 5u /* magic, version, length, hash, threshold */

/* Tasks (macros, not an enum: the preprocessor selects compiled code with them). */
#define NEAI_TASK_NCLASS 1u
#define NEAI_TASK_ONECLASS 2u
#define NEAI_TASK_EXTRAPOLATION 3u

/* Inference algorithms. A library's neai_config.h may define
 * NEAI_TMODEL_KIND_ONLY to one of them so only that one is compiled. */
#define NEAI_TK_LINEAR 1u
#define NEAI_TK_FOREST 2u
#define NEAI_TK_PROTO 3u
#define NEAI_TK_MLP 4u
#define NEAI_TK_GAUSS 5u
#define NEAI_TK_KERNEL 6u
#define NEAI_TK_QUAD 7u
#define NEAI_TK_KNN 8u

/* Output step applied to the algorithm's n_raw raw outputs. */
#define NEAI_TPOST_NONE 0u       /* out = raw                                        */
#define NEAI_TPOST_SOFTMAX 1u    /* n-class: softmax; n_raw == 1 means logits (0, raw) */
#define NEAI_TPOST_MEAN 2u       /* out = raw / size_a (forests: mean over trees)    */
#define NEAI_TPOST_EXP 3u        /* out = exp(raw)                                   */
#define NEAI_TPOST_SQRT 4u       /* out = sqrt(raw)                                  */
#define NEAI_TPOST_NEG_LSE 5u    /* out = -log(sum exp(raw))                         */

/* Check results of neai_tmodel_check. */
#define NEAI_TCHECK_OK 0u
#define NEAI_TCHECK_NULL 1u
#define NEAI_TCHECK_MAGIC 2u
#define NEAI_TCHECK_VERSION 3u
#define NEAI_TCHECK_LENGTH 4u
#define NEAI_TCHECK_HASH 5u
#define NEAI_TCHECK_CONFIG 6u

typedef struct {
    uint16_t task;     /* NEAI_TASK_*                                                */
    uint16_t kind;     /* NEAI_TK_*: the inference algorithm                         */
    uint16_t post;     /* NEAI_TPOST_*                                               */
    uint16_t n_in;     /* features from the preprocessing                            */
    uint16_t n_z;      /* features after the transform (PCA components, else n_in)   */
    uint16_t n_out;    /* outputs: classes (n-class), 1 otherwise                     */
    uint16_t n_raw;    /* raw outputs of the algorithm                                */
    uint16_t scale;    /* 1 = standardise the features                                */
    uint16_t pca;      /* 1 = project onto n_z principal components                   */
    uint16_t reserved; /* 0                                                           */
    uint32_t size_a;   /* per algorithm, see the layout above                         */
    uint32_t size_b;
    uint32_t size_c;
    uint32_t knowledge_floats; /* length of the knowledge buffer                      */
    uint32_t hash;             /* must equal knowledge[3] and the contents' hash      */
} neai_tmodel_cfg;

/* Floats written to `out` by neai_tmodel_predict: n-class n_out probabilities,
 * one-class (score, 1.0f if outlier else 0.0f), extrapolation the value. */
#define NEAI_TMODEL_OUT_FLOATS(task, n_out) \
    ((task) == NEAI_TASK_NCLASS ? (uint32_t)(n_out) : ((task) == NEAI_TASK_ONECLASS ? 2u : 1u))

#endif /* NEAI_TRAINED_TYPES_H */
