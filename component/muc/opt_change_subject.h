/* opt_change_subject: muc#roomconfig_changesubject: whether participants may
 * change the subject. */
#ifndef IMGROUPS_OPT_CHANGE_SUBJECT_H
#define IMGROUPS_OPT_CHANGE_SUBJECT_H

#include "options.h"

extern const room_option opt_change_subject;

#endif
