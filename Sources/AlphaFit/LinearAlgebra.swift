import COpenBLAS
import ConvKernels

/// The few dense linear-algebra operations the fitter needs, all through the BLAS and LAPACK
/// inside OpenBLAS, on one thread. Matrices are column-major.
enum LinearAlgebra {
    /// Runs `body` with OpenBLAS on one thread, then restores its count. The fitter's matrices are
    /// thin (a few to twenty columns; the p×p solves never thread): more threads gain nothing and
    /// spin in `sched_yield` between calls, a core's worth of system time taken from whatever else
    /// runs (verify-package of the paper sample: 8.4 of 24 CPU seconds).
    private static func onOneThread<T>(_ body: () -> T) -> T {
        let threads = OpenBLAS.threadCount
        if threads != 1 { OpenBLAS.setThreadCount(1) }
        defer { if threads != 1 { OpenBLAS.setThreadCount(threads) } }
        return body()
    }

    /// AᵀA (p×p, full symmetric) and Aᵀb for a column-major n×p matrix A.
    static func normalEquations(_ a: [Double], rows n: Int, columns p: Int, _ b: [Double])
        -> (gram: [Double], projection: [Double])
    {
        var gram = [Double](repeating: 0, count: p * p)
        var projection = [Double](repeating: 0, count: p)
        onOneThread {
            cblas_dsyrk(
                CblasColMajor, CblasUpper, CblasTrans, Int32(p), Int32(n), 1, a, Int32(n),
                0, &gram, Int32(p))
            cblas_dgemv(
                CblasColMajor, CblasTrans, Int32(n), Int32(p), 1, a, Int32(n), b, 1, 0,
                &projection, 1)
        }
        for j in 0..<p { for i in 0..<j { gram[j + i * p] = gram[i + j * p] } }
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
        onOneThread {
            dpotrf_(&uplo, &order, &factor, &lda, &info)
            if info == 0 { dpotrs_(&uplo, &order, &nrhs, factor, &lda, &x, &lda, &info) }
        }
        return info == 0 ? x : nil
    }

    /// The inverse of a symmetric positive definite S (dpotrf/dpotri); nil when S is not
    /// positive definite.
    static func invertPositiveDefinite(_ s: [Double], order n: Int) -> [Double]? {
        var a = s
        var order = Int32(n)
        var lda = Int32(n)
        var info: Int32 = 0
        var uplo = Int8(UInt8(ascii: "U"))
        onOneThread {
            dpotrf_(&uplo, &order, &a, &lda, &info)
            if info == 0 { dpotri_(&uplo, &order, &a, &lda, &info) }
        }
        guard info == 0 else { return nil }
        for j in 0..<n { for i in 0..<j { a[j + i * n] = a[i + j * n] } }
        return a
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
        onOneThread { dsyev_(&jobz, &uplo, &order, &a, &lda, &w, &work, &lwork, &info) }
        return info == 0 ? w : nil
    }
}
