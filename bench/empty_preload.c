/* The floor: what preloading any shared object costs a process on this
 * machine, to read the guard's own cost against. */
int eg_bench_empty_preload;
