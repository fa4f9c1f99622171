/* marks: the confirmer for the project's own plugins (MSN, Yahoo): a mark
 * behind each IM, settled by the plugin's delivery signal
 * (transports/imgroups_prpl.h), failed after MARK_TIMEOUT_S without one. */
#ifndef IMGROUPS_MARKS_H
#define IMGROUPS_MARKS_H

#include "delivery.h"

extern const delivery_confirmer marks_confirmer;

#endif
