#ifndef CONVSWEEP_COPENBLAS_SHIM_H
#define CONVSWEEP_COPENBLAS_SHIM_H
// OpenBLAS's CBLAS interface plus the few OpenBLAS extensions convsweep records.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <cblas.h>

/// Binds OpenBLAS's thread `thread_idx` to PU `pu` (operating-system index): 0 … n-2 are its
/// workers, n-1 the calling thread (OpenBLAS 0.3.21 on Linux). 0 on success.
static inline int convsweep_openblas_pin(int thread_idx, int pu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pu, &set);
    return openblas_setaffinity(thread_idx, sizeof set, &set);
}

// OpenBLAS extensions (declared in cblas.h of 0.3.21, repeated here for clarity):
//   void  openblas_set_num_threads(int);
//   int   openblas_get_num_threads(void);
//   char* openblas_get_config(void);
//   char* openblas_get_corename(void);

// LAPACK (Fortran ABI) routines inside OpenBLAS. This build ships no LAPACKE, so the
// prototypes are declared here. All arguments are passed by pointer; matrices are column-major.
// Hidden string-length arguments are omitted: every character argument used is length 1.

/// Cholesky factorisation of a symmetric positive definite matrix.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
/// Solve A X = B with the Cholesky factor from dpotrf_.
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info);
/// Inverse of a symmetric positive definite matrix from its Cholesky factor.
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
/// Least squares / minimum norm via QR or LQ.
void dgels_(const char *trans, const int *m, const int *n, const int *nrhs, double *a,
            const int *lda, double *b, const int *ldb, double *work, const int *lwork, int *info);
/// Singular value decomposition.
void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a,
             const int *lda, double *s, double *u, const int *ldu, double *vt, const int *ldvt,
             double *work, const int *lwork, int *info);
/// Eigen-decomposition of a symmetric matrix.
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
            double *w, double *work, const int *lwork, int *info);
/// LU factorisation and solve of a general matrix.
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv, double *b,
            const int *ldb, int *info);

#endif
