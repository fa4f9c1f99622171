/* plain: the confirmer for every other plugin, which writes during the
 * send call or leaves it to the kernel's socket buffer: delivered at the
 * next low-priority idle, after every ready source of default priority. */
#ifndef IMGROUPS_PLAIN_H
#define IMGROUPS_PLAIN_H

#include "delivery.h"

extern const delivery_confirmer plain_confirmer;

#endif
