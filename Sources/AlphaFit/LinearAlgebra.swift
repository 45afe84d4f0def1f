import COpenBLAS

/// The few dense linear-algebra operations the fitter needs, through the BLAS and LAPACK inside
/// OpenBLAS where OpenBLAS runs them on the calling thread. Matrices are column-major.
///
/// The fitter's matrices are thin (a few to twenty columns): OpenBLAS gains nothing from its
/// threads there, and where it would use them (a `dgemv` of 9,216 values or more, `dpotri`'s
/// `dlauum` at any size) its workers then spin in `sched_yield`, a core's worth of system time
/// taken from whatever else runs (verify-package of the paper sample: 8.4 of 24 CPU seconds).
/// Those operations are written out here instead; the thread count, OpenBLAS's global setting,
/// is never touched (a measurement in the same process owns it).
enum LinearAlgebra {
    /// AᵀA (p×p, full symmetric) and Aᵀb for a column-major n×p matrix A.
    static func normalEquations(_ a: [Double], rows n: Int, columns p: Int, _ b: [Double])
        -> (gram: [Double], projection: [Double])
    {
        var gram = [Double](repeating: 0, count: p * p)
        var projection = [Double](repeating: 0, count: p)
        // dsyrk with k = n ≫ p runs on the calling thread; Aᵀb is p dot products.
        cblas_dsyrk(
            CblasColMajor, CblasUpper, CblasTrans, Int32(p), Int32(n), 1, a, Int32(n), 0, &gram, Int32(p))
        for j in 0..<p { for i in 0..<j { gram[j + i * p] = gram[i + j * p] } }
        a.withUnsafeBufferPointer { a in
            for j in 0..<p {
                var sum = 0.0
                for i in 0..<n { sum += a[i + j * n] * b[i] }
                projection[j] = sum
            }
        }
        return (gram, projection)
    }

    /// Solves S x = b for a symmetric positive definite S (Cholesky, dpotrf/dpotrs);
    /// nil when S is not positive definite.
    static func solvePositiveDefinite(_ s: [Double], order n: Int, _ b: [Double]) -> [Double]? {
        var factor = s
        var x = b
        var order = Int32(n)
        var lda = Int32(n)
        var nrhs: Int32 = 1
        var info: Int32 = 0
        var uplo = Int8(UInt8(ascii: "U"))
        dpotrf_(&uplo, &order, &factor, &lda, &info)
        guard info == 0 else { return nil }
        dpotrs_(&uplo, &order, &nrhs, factor, &lda, &x, &lda, &info)
        return info == 0 ? x : nil
    }

    /// The inverse of a symmetric positive definite S: its Cholesky factor (dpotrf) solved
    /// against the identity (dpotrs; not dpotri, whose dlauum OpenBLAS threads at any size); nil
    /// when S is not positive definite.
    static func invertPositiveDefinite(_ s: [Double], order n: Int) -> [Double]? {
        var factor = s
        var inverse = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inverse[i + i * n] = 1 }
        var order = Int32(n)
        var lda = Int32(n)
        var info: Int32 = 0
        var uplo = Int8(UInt8(ascii: "U"))
        dpotrf_(&uplo, &order, &factor, &lda, &info)
        guard info == 0 else { return nil }
        dpotrs_(&uplo, &order, &order, factor, &lda, &inverse, &lda, &info)
        return info == 0 ? inverse : nil
    }

    /// The eigenvalues of a symmetric S, ascending (dsyev); nil if LAPACK fails.
    static func symmetricEigenvalues(_ s: [Double], order n: Int) -> [Double]? {
        var a = s
        var w = [Double](repeating: 0, count: n)
        var order = Int32(n)
        var lda = Int32(n)
        var info: Int32 = 0
        var jobz = Int8(UInt8(ascii: "N"))
        var uplo = Int8(UInt8(ascii: "U"))
        var lwork = Int32(max(1, 3 * n - 1) + 64)
        var work = [Double](repeating: 0, count: Int(lwork))
        dsyev_(&jobz, &uplo, &order, &a, &lda, &w, &work, &lwork, &info)
        return info == 0 ? w : nil
    }
}
