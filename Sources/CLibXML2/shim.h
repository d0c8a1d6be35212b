#ifndef AUTOSCALER_CLIBXML2_SHIM_H
#define AUTOSCALER_CLIBXML2_SHIM_H

#include <libxml/xmlversion.h>
// Debian's libxml2 is built with ICU, so its encoding.h pulls in the system's <unicode/ucnv.h>,
// whose types clash with the ICU copy inside Foundation ("UErrorCode has different definitions").
// We never touch the ICU-specific fields of libxml2's encoding handlers (only pointers to them),
// so hide ICU from the headers we import.
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/tree.h>

#endif
