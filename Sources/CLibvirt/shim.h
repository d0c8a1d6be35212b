#ifndef AUTOSCALER_CLIBVIRT_SHIM_H
#define AUTOSCALER_CLIBVIRT_SHIM_H

#include <stdlib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#endif
