/*
 * mpjson - the JSON sections every tool writes the same way: meta, per-event
 * statistics, system statistics, tasks and the loss accounting.  mp-decode
 * --json and mp-report --stats-json both call mp_json_stats(), so their
 * numbers cannot drift apart.
 */
#ifndef TOOLS_MPJSON_H
#define TOOLS_MPJSON_H

#include "tools/mpload.h"
#include "tools/mpout.h"

void mp_json_meta(struct mj *j, const struct mp_stream *s);
void mp_json_stats(struct mj *j, const struct mp_stream *s);
void mp_json_system(struct mj *j, const struct mp_stream *s);
void mp_json_tasks(struct mj *j, const struct mp_stream *s);
void mp_json_loss(struct mj *j, const struct mp_stream *s);
void mp_json_messages(struct mj *j, const struct mp_stream *s);

/* mp_clock_name - "wall" or "icount"; mp_mode_name - "saturate", "circular", "?". */
const char *mp_clock_name(uint32_t clock);
const char *mp_mode_name(uint32_t mode);

#endif /* TOOLS_MPJSON_H */
