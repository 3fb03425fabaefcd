module fastim.bench/drain

go 1.19
