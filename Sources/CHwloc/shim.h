#ifndef CONVSWEEP_CHWLOC_SHIM_H
#define CONVSWEEP_CHWLOC_SHIM_H
#include <hwloc.h>
#include <sched.h>
#endif
