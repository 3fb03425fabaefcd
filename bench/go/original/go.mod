module fastim.bench/original

go 1.19
