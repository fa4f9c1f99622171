/* opt_history: muc#maxhistoryfetch: the most messages of history a joiner
 * gets. */
#include "opt_history.h"

#include <stddef.h>

static int history_max(const group_cfg *g)
{
    return g->history_len;
}

const room_option opt_history = {
    .var = "muc#maxhistoryfetch",
    .label = "Most messages of history on join",
    .kind = OPTION_UINT,
    .offset = offsetof(group_cfg, history_len),
    .history_max = history_max,
};
