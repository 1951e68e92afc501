# The Science data of the R package mirt (4 Likert items, 392 respondents; borrowed by mirt from
# ltm, Euro-Barometer 38.1) as a CSV for tests/test_progress_irt.py. mirt itself is not needed:
# data/Science.RData is taken from the mirt sources (github.com/philchalmers/mirt, commit
# 2fc2b236569fa55839c7acaf396fd595cf4e8b52, version 1.47; md5 dc9cd9f3fb837b7adf410c2bd691c9a4).
# Run from the repository root: Rscript tests/results/make_mirt_science.R path/to/Science.RData
args <- commandArgs(trailingOnly = TRUE)
load(args[1])
write.csv(Science, "tests/results/mirt_science.csv", row.names = FALSE)
