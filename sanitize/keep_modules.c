/* A dlclose() that keeps every module mapped, preloaded (LD_PRELOAD) into the processes of the
 * sanitizer suite only (scripts/sanitize.sh); never part of a distopt binary.
 *
 * Why: Open MPI 4.1 dlopens dozens of components in MPI_Init and dlcloses the ones it does not
 * select. What they allocated while registering stays allocated until exit, so LeakSanitizer
 * reports it at exit, and with the module already unmapped the allocation stack ends in
 * "<unknown module>", which no suppression (sanitize/lsan.supp) can name. With the modules kept
 * mapped the frames resolve to mca_*.so / libopen-pal.so and the suppressions apply, while
 * LSan's fast frame-pointer unwinder stays on (the slow unwinder made some suites 40x slower). */
int dlclose(void *handle) {
  (void)handle;
  return 0;
}
