import COpenBLAS

/// The few dense linear-algebra operations the fitter needs, all through the BLAS and LAPACK
/// inside OpenBLAS. Matrices are column-major.
enum LinearAlgebra {
    /// AᵀA (p×p, full symmetric) and Aᵀb for a column-major n×p matrix A.
    static func normalEquations(_ a: [Double], rows n: Int, columns p: Int, _ b: [Double])
        -> (gram: [Double], projection: [Double])
    {
        var gram = [Double](repeating: 0, count: p * p)
        var projection = [Double](repeating: 0, count: p)
        cblas_dsyrk(
            CblasColMajor, CblasUpper, CblasTrans, Int32(p), Int32(n), 1, a, Int32(n),
            0, &gram, Int32(p))
        for j in 0..<p { for i in 0..<j { gram[j + i * p] = gram[i + j * p] } }
        cblas_dgemv(
            CblasColMajor, CblasTrans, Int32(n), Int32(p), 1, a, Int32(n), b, 1, 0,
            &projection, 1)
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

    /// The inverse of a symmetric positive definite S (dpotrf/dpotri); nil when S is not
    /// positive definite.
    static func invertPositiveDefinite(_ s: [Double], order n: Int) -> [Double]? {
        var a = s
        var order = Int32(n)
        var lda = Int32(n)
        var info: Int32 = 0
        var uplo = Int8(UInt8(ascii: "U"))
        dpotrf_(&uplo, &order, &a, &lda, &info)
        guard info == 0 else { return nil }
        dpotri_(&uplo, &order, &a, &lda, &info)
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
        dsyev_(&jobz, &uplo, &order, &a, &lda, &w, &work, &lwork, &info)
        return info == 0 ? w : nil
    }
}
