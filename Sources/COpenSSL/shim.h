#ifndef CONVSWEEP_COPENSSL_SHIM_H
#define CONVSWEEP_COPENSSL_SHIM_H
#include <openssl/evp.h>
#endif
