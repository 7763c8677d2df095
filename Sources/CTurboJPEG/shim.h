#include <turbojpeg.h>

/* TJSCALED is a function-like macro, which Swift cannot import. */
static inline int ctj_scaled(int dimension, tjscalingfactor factor) { return TJSCALED(dimension, factor); }
static const int CTJ_FLAG_FASTDCT = TJFLAG_FASTDCT;
static const int CTJ_FLAG_FASTUPSAMPLE = TJFLAG_FASTUPSAMPLE;
static const int CTJ_FLAG_NOREALLOC = TJFLAG_NOREALLOC;
static const int CTJ_FLAG_LIMITSCANS = TJFLAG_LIMITSCANS;
static const int CTJ_FLAG_STOPONWARNING = TJFLAG_STOPONWARNING;
