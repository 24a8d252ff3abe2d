#include "core/clock.h"

#include "core/shutdown.h"

namespace extdata {

// A stopping process does not sleep out a retry's back-off (core/shutdown.h).
void SystemClock::sleep_for(std::chrono::milliseconds d) {
  process_shutdown().wait_for(d);
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace extdata
