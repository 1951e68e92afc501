# Reference numbers for tests/test_effectiveness_rlrt.py: RLRsim's exact (R)LRT of a random
# mentor intercept, y ~ x + (1 | g), on tests/results/rlrsim_cases.csv.
# Run from the repository root: Rscript tests/results/make_rlrsim.R
# Writes tests/results/rlrsim.json (Debian bookworm r-base-core, r-cran-lme4, r-cran-rlrsim).
suppressMessages({library(lme4); library(RLRsim); library(jsonlite)})
d <- read.csv("tests/results/rlrsim_cases.csv")
d$g <- factor(d$g)
out <- list()
for (cs in unique(d$case)) {
  s <- d[d$case == cs, ]
  reml <- lmer(y ~ x + (1 | g), data = s, REML = TRUE)
  ml <- lmer(y ~ x + (1 | g), data = s, REML = FALSE)
  m0 <- lm(y ~ x, data = s)
  r <- exactRLRT(reml, seed = 1, nsim = 100000)
  l <- tryCatch(exactLRT(ml, m0, seed = 1, nsim = 100000), error = function(e) {
    # exactLRT fails when the ML variance is 0 (chol of a zero Vr; exactRLRT guards this):
    # the same simulation by LRTSim with Sigma = I, and exactLRT's p = mean(obs < sample)
    X <- getME(ml, "X"); Z <- t(as.matrix(getME(ml, "Zt")))
    smp <- LRTSim(X, Z, q = 0, sqrt.Sigma = diag(ncol(Z)), seed = 1, nsim = 100000)
    obs <- max(0, 2 * (logLik(ml)[1] - logLik(m0)[1]))
    list(statistic = obs, p.value = mean(obs < smp), sample = smp)
  })
  out[[cs]] <- list(
    var_mentor_reml = as.data.frame(VarCorr(reml))$vcov[1],
    rlrt_stat = unname(r$statistic), rlrt_p = r$p.value,
    # exactRLRT simulates nothing for a statistic of 0 (p = 1 by definition)
    rlrt_p_zero = if (is.numeric(r$sample)) mean(r$sample == 0) else NA,
    lrt_stat = unname(l$statistic), lrt_p = l$p.value,
    lrt_p_zero = mean(l$sample == 0)
  )
}
out$provenance <- list(
  r = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  RLRsim = as.character(packageVersion("RLRsim")),
  script = "tests/results/make_rlrsim.R", nsim = 100000, seed = 1
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/results/rlrsim.json")
