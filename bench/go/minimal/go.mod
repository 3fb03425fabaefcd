module fastim.bench/minimal

go 1.19
