#ifndef AUTOSCALER_CLIBXML2_SHIM_H
#define AUTOSCALER_CLIBXML2_SHIM_H

#include <libxml/parser.h>
#include <libxml/tree.h>

#endif
