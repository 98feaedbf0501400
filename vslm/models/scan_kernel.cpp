// Selective scan of the Mamba baseline on the CPU, fused into one pass per (batch, channel):
//   h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t,   y_t = C_t . h_t + D u_t
// The backward recomputes the states of one (batch, channel) row instead of storing them.
#include <torch/extension.h>
#include <cmath>
#include <vector>

template <typename T>
static void scan_forward(const T* u, const T* delta, const T* A, const T* B, const T* C, const T* D,
                         T* y, int64_t b, int64_t L, int64_t d, int64_t n) {
  std::vector<T> h(n), decay(n);
  for (int64_t ib = 0; ib < b; ++ib)
    for (int64_t id = 0; id < d; ++id) {
      std::fill(h.begin(), h.end(), T(0));
      const T* a_row = A + id * n;
      for (int64_t t = 0; t < L; ++t) {
        const int64_t i = (ib * L + t) * d + id;
        const T dt = delta[i], x = u[i];
        const T* Bt = B + (ib * L + t) * n;
        const T* Ct = C + (ib * L + t) * n;
        T* dc = decay.data();
        T* hh = h.data();
#pragma omp simd
        for (int64_t k = 0; k < n; ++k) dc[k] = std::exp(std::max(dt * a_row[k], T(-87)));
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t k = 0; k < n; ++k) {
          hh[k] = dc[k] * hh[k] + dt * Bt[k] * x;
          acc += hh[k] * Ct[k];
        }
        y[i] = acc + D[id] * x;
      }
    }
}

template <typename T>
static void scan_backward(const T* u, const T* delta, const T* A, const T* B, const T* C, const T* D,
                          const T* gy, T* gu, T* gdelta, T* gA, T* gB, T* gC, T* gD,
                          int64_t b, int64_t L, int64_t d, int64_t n) {
  std::vector<T> H(L * n), E(L * n), g(n);
  for (int64_t ib = 0; ib < b; ++ib)
    for (int64_t id = 0; id < d; ++id) {
      const T* a_row = A + id * n;
      std::fill(g.begin(), g.end(), T(0));
      for (int64_t t = 0; t < L; ++t) {  // recompute the decays and states of this row
        const int64_t i = (ib * L + t) * d + id;
        const T dt = delta[i], x = u[i];
        const T* Bt = B + (ib * L + t) * n;
        T* Et = E.data() + t * n;
        T* Ht = H.data() + t * n;
        const T* Hp = t ? H.data() + (t - 1) * n : nullptr;
#pragma omp simd
        for (int64_t k = 0; k < n; ++k) Et[k] = std::exp(std::max(dt * a_row[k], T(-87)));
#pragma omp simd
        for (int64_t k = 0; k < n; ++k) Ht[k] = (Hp ? Et[k] * Hp[k] : T(0)) + dt * Bt[k] * x;
      }
      for (int64_t t = L - 1; t >= 0; --t) {  // g = dL/dh_t, carried backwards
        const int64_t i = (ib * L + t) * d + id;
        const T dt = delta[i], x = u[i], gyt = gy[i];
        const T* Bt = B + (ib * L + t) * n;
        const T* Ct = C + (ib * L + t) * n;
        T* gBt = gB + (ib * L + t) * n;
        T* gCt = gC + (ib * L + t) * n;
        const T* Et = E.data() + t * n;
        T g_dt = 0, g_x = 0;
#pragma omp simd reduction(+ : g_dt, g_x)
        for (int64_t k = 0; k < n; ++k) {
          const T G = g[k] + gyt * Ct[k];
          const T decay = Et[k];
          const T prev = t ? H[(t - 1) * n + k] : T(0);
          const T g_arg = G * prev * decay;  // dL/d(delta_t A)
          gCt[k] += gyt * H[t * n + k];
          gBt[k] += G * dt * x;
          gA[id * n + k] += g_arg * dt;
          g_dt += g_arg * a_row[k] + G * Bt[k] * x;
          g_x += G * dt * Bt[k];
          g[k] = G * decay;
        }
        gdelta[i] = g_dt;
        gu[i] = g_x + gyt * D[id];
        gD[id] += gyt * x;
      }
    }
}

torch::Tensor forward(torch::Tensor u, torch::Tensor delta, torch::Tensor A, torch::Tensor B,
                      torch::Tensor C, torch::Tensor D) {
  auto y = torch::empty_like(u);
  const int64_t b = u.size(0), L = u.size(1), d = u.size(2), n = A.size(1);
  AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "scan_forward", [&] {
    scan_forward<scalar_t>(u.data_ptr<scalar_t>(), delta.data_ptr<scalar_t>(), A.data_ptr<scalar_t>(),
                           B.data_ptr<scalar_t>(), C.data_ptr<scalar_t>(), D.data_ptr<scalar_t>(),
                           y.data_ptr<scalar_t>(), b, L, d, n);
  });
  return y;
}

std::vector<torch::Tensor> backward(torch::Tensor u, torch::Tensor delta, torch::Tensor A, torch::Tensor B,
                                    torch::Tensor C, torch::Tensor D, torch::Tensor gy) {
  auto gu = torch::empty_like(u), gdelta = torch::empty_like(u);
  auto gA = torch::zeros_like(A), gB = torch::zeros_like(B), gC = torch::zeros_like(C), gD = torch::zeros_like(D);
  const int64_t b = u.size(0), L = u.size(1), d = u.size(2), n = A.size(1);
  AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "scan_backward", [&] {
    scan_backward<scalar_t>(u.data_ptr<scalar_t>(), delta.data_ptr<scalar_t>(), A.data_ptr<scalar_t>(),
                            B.data_ptr<scalar_t>(), C.data_ptr<scalar_t>(), D.data_ptr<scalar_t>(),
                            gy.data_ptr<scalar_t>(), gu.data_ptr<scalar_t>(), gdelta.data_ptr<scalar_t>(),
                            gA.data_ptr<scalar_t>(), gB.data_ptr<scalar_t>(), gC.data_ptr<scalar_t>(),
                            gD.data_ptr<scalar_t>(), b, L, d, n);
  });
  return {gu, gdelta, gA, gB, gC, gD};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "selective scan forward (CPU)");
  m.def("backward", &backward, "selective scan backward (CPU)");
}
