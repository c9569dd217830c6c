// Opens watched and unwatched paths from many threads at once: argv[1] threads, argv[2] rounds each.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 8;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 1000;
  const char* paths[] = {"/proc/ioports", "/sys/class/dmi/id/product_uuid", "/proc/self/stat", "/etc/passwd"};
  std::atomic<long> opened{0}, failed{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++)
    pool.emplace_back([&] {
      for (int r = 0; r < rounds; r++)
        for (const char* path : paths) {
          int fd = open(path, O_RDONLY);
          if (fd < 0) {
            failed++;
          } else {
            opened++;
            close(fd);
          }
        }
    });
  for (auto& t : pool) t.join();
  std::printf("opened %ld failed %ld\n", opened.load(), failed.load());
}
