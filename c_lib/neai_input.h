/* neai_input.h - what a library's API calls give the preprocessing: the
 * caller's buffer, or its copy through the project's frequency filter when the
 * library has one (NEAI_CFG_FILTER_SECTIONS > 0 in the generated neai_config.h).
 * The caller's buffer is never modified. Included once, by the library's API file. */
#ifndef NEAI_INPUT_H
#define NEAI_INPUT_H

#if NEAI_CFG_FILTER_SECTIONS > 0
static const neai_filter_cfg neai_filter = NEAI_FILTER_INIT;
static float neai_filtered[NEAI_CFG_INPUT_FLOATS];

static const float *neai_input(const float *data_input)
{
    neai_filter_apply(&neai_filter, data_input, neai_filtered);
    return neai_filtered;
}
#else
static const float *neai_input(const float *data_input)
{
    return data_input;
}
#endif

#endif /* NEAI_INPUT_H */
