// libFuzzer target: the INI config parser (Config::parse with --config FILE over the real
// `distopt train` options, Boost.Program_options underneath), then every typed getter on every
// resolved value, as the run layer reads them.
#include "distopt/run/config.hpp"
#include "distopt/run/options.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto options = distopt::train_options();
  const auto& path = distopt_fuzz::write_input(data, size, ".ini");
  return distopt_fuzz::run_one([&] {
    const auto c = distopt::Config::parse(options, {"--config", path});
    for (const auto& kv : c.values()) {
      const std::string& key = kv.first;  // not a structured binding: clang 14 cannot capture one
      // Each getter either returns a value or throws ConfigError naming the key.
      const auto swallow = [](auto&& get) {
        try {
          get();
        } catch (const distopt::ConfigError&) {
        }
      };
      swallow([&] { (void)c.get_double(key); });
      swallow([&] { (void)c.get_int(key); });
      swallow([&] { (void)c.get_uint(key); });
      swallow([&] { (void)c.get_bool(key); });
      swallow([&] { (void)c.get_in(key, 0, 1, true, false); });
    }
  });
}
