// Local multi-rank launcher (see launcher.h): fork/exec, output forwarding with poll(), signal
// forwarding, and a watchdog so the launcher never waits forever on a rank that hangs.
#include "cli/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <stdexcept>

extern char** environ;

namespace bitnet::cli {
namespace {

// Signals the launcher received; a handler can reach nothing else. The loop forwards each new one.
volatile std::sig_atomic_t g_last_signal = 0;
volatile std::sig_atomic_t g_signal_count = 0;

extern "C" void record_launcher_signal(int signo) {
  g_last_signal = signo;
  g_signal_count = g_signal_count + 1;
}

using Clock = std::chrono::steady_clock;

struct Stream {
  int fd = -1;
  int rank = 0;
  bool to_stderr = false;
  std::string pending;  // an unfinished line
};

struct Rank {
  pid_t pid = -1;
  bool running = false;
  int exit_code = 0;
};

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal is gone; nothing sensible to do with the output
    done += size_t(n);
  }
}

void emit_lines(Stream& s, bool flush_partial) {
  size_t start = 0, nl;
  std::string out;
  while ((nl = s.pending.find('\n', start)) != std::string::npos) {
    out += "[rank " + std::to_string(s.rank) + "] " + s.pending.substr(start, nl - start + 1);
    start = nl + 1;
  }
  s.pending.erase(0, start);
  if (flush_partial && !s.pending.empty()) {
    out += "[rank " + std::to_string(s.rank) + "] " + s.pending + "\n";
    s.pending.clear();
  }
  if (!out.empty()) write_all(s.to_stderr ? STDERR_FILENO : STDOUT_FILENO, out);
}

// Reads what is there; false at end of stream.
bool pump(Stream& s) {
  char buf[4096];
  const ssize_t n = ::read(s.fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    emit_lines(s, true);
    ::close(s.fd);
    s.fd = -1;
    return false;
  }
  s.pending.append(buf, size_t(n));
  emit_lines(s, false);
  return true;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string describe_exit(int code) {
  if (code == 0) return "finished";
  if (code == 128 + SIGINT || code == 128 + SIGTERM) {
    return "stopped cleanly by " + std::string(code == 128 + SIGINT ? "SIGINT" : "SIGTERM") + " (exit " +
           std::to_string(code) + ")";
  }
  if (code > 128) return "was killed by signal " + std::to_string(code - 128) + " (exit " + std::to_string(code) + ")";
  return "failed (exit " + std::to_string(code) + ")";
}

bool is_clean_stop(int code) {
  return code == 128 + SIGINT || code == 128 + SIGTERM;
}

// Environment of rank `rank`: ours minus any distributed variables, plus the run's.
std::vector<std::string> rank_environment(int rank, int nproc, int port) {
  static const char* kOwn[] = {
      "RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool own = false;
    for (const char* prefix : kOwn) own = own || entry.rfind(prefix, 0) == 0;
    if (!own) env.push_back(entry);
  }
  env.push_back("RANK=" + std::to_string(rank));
  env.push_back("LOCAL_RANK=" + std::to_string(rank));
  env.push_back("WORLD_SIZE=" + std::to_string(nproc));
  env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
  env.push_back("MASTER_ADDR=127.0.0.1");
  env.push_back("MASTER_PORT=" + std::to_string(port));
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

int worst_exit_code(const std::vector<int>& codes) {
  auto severity = [](int c) { return c == 0 ? 0 : is_clean_stop(c) ? 1 : 2; };
  int worst = 0;
  for (int c : codes) {
    if (severity(c) > severity(worst) || (severity(c) == severity(worst) && c > worst)) worst = c;
  }
  return worst;
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error(std::string("cannot open a socket to find a free port: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot find a free port on 127.0.0.1: " + why);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {

// Starts rank r as a copy of this program with the rank's environment. Rank 0 keeps our stdout;
// every other stdout and every stderr comes back through a pipe (added to `streams`), so lines
// are prefixed with their rank and never interleave.
Rank start_rank(int r, int nproc, int port, std::vector<char*>& argv, std::vector<Stream>* streams) {
  std::vector<std::string> env_strings = rank_environment(r, nproc, port);
  std::vector<char*> envp = c_strings(env_strings);
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if ((r > 0 && ::pipe(out_pipe) != 0) || ::pipe(err_pipe) != 0) {
    throw std::runtime_error(std::string("cannot create a pipe for rank output: ") + std::strerror(errno));
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string("cannot start rank ") + std::to_string(r) + ": " + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);  // a terminal's Ctrl-C goes to the launcher only, which forwards it once
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    if (r > 0) ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    ::execve("/proc/self/exe", argv.data(), envp.data());
    const std::string msg = "cannot execute /proc/self/exe: " + std::string(std::strerror(errno)) + "\n";
    write_all(STDERR_FILENO, msg);
    ::_exit(127);
  }
  if (r > 0) {
    ::close(out_pipe[1]);
    streams->push_back(Stream{out_pipe[0], r, false, {}});
  }
  ::close(err_pipe[1]);
  streams->push_back(Stream{err_pipe[0], r, true, {}});
  return Rank{pid, true, 0};
}

// Forwards every signal the launcher got since the last call to the running ranks.
void forward_signals(const std::vector<Rank>& ranks, int* forwarded) {
  while (*forwarded < g_signal_count) {
    ++*forwarded;
    for (const Rank& k : ranks) {
      if (k.running) ::kill(k.pid, g_last_signal);
    }
  }
}

// Copies what the ranks wrote (waiting up to 100 ms for it). False when every pipe is closed.
bool pump_streams(std::vector<Stream>& streams) {
  std::vector<pollfd> fds;
  std::vector<size_t> which;
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].fd >= 0) {
      fds.push_back(pollfd{streams[i].fd, POLLIN, 0});
      which.push_back(i);
    }
  }
  if (fds.empty()) {
    ::usleep(100 * 1000);
    return false;
  }
  const int n = ::poll(fds.data(), fds.size(), 100);
  for (size_t i = 0; n > 0 && i < fds.size(); ++i) {
    if (fds[i].revents != 0) pump(streams[which[i]]);
  }
  return true;
}

// Collects ranks that ended; the first failure (not a clean stop) sets `failed_at`. True while
// any rank still runs.
bool reap_ranks(std::vector<Rank>& ranks, std::optional<Clock::time_point>* failed_at) {
  bool any_running = false;
  for (Rank& k : ranks) {
    if (!k.running) continue;
    int status = 0;
    if (::waitpid(k.pid, &status, WNOHANG) == k.pid) {
      k.running = false;
      k.exit_code = decode_status(status);
      if (k.exit_code != 0 && !is_clean_stop(k.exit_code) && !*failed_at) *failed_at = Clock::now();
    } else {
      any_running = true;
    }
  }
  return any_running;
}

// After a rank failed, the others notice within distributed.timeout_s; past that (and a margin)
// they are stopped rather than waited on forever: SIGTERM first, SIGKILL 10 s later.
class Straggler {
 public:
  explicit Straggler(std::chrono::seconds grace) : grace_(grace) {}
  void stop_if_overdue(const std::vector<Rank>& ranks, std::optional<Clock::time_point>* failed_at) {
    if (!*failed_at || Clock::now() - **failed_at <= grace_) return;
    const int sig = terminated_ ? SIGKILL : SIGTERM;
    if (!killed_) {
      write_all(STDERR_FILENO, std::string("[launcher] ranks still running ") + std::to_string(grace_.count()) +
                                   " s after a rank failed; sending " + (sig == SIGKILL ? "SIGKILL" : "SIGTERM") +
                                   "\n");
      for (const Rank& k : ranks) {
        if (k.running) ::kill(k.pid, sig);
      }
    }
    killed_ = terminated_;
    terminated_ = true;
    *failed_at = Clock::now() - grace_ + std::chrono::seconds(10);
  }

 private:
  std::chrono::seconds grace_;
  bool terminated_ = false, killed_ = false;
};

// The launcher's exit code (worst_exit_code), with a line naming each rank's end when not 0.
int report_exit(const std::vector<Rank>& ranks) {
  std::vector<int> codes;
  std::string summary;
  for (size_t r = 0; r < ranks.size(); ++r) {
    codes.push_back(ranks[r].exit_code);
    summary += (summary.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r) + " " +
               describe_exit(ranks[r].exit_code);
  }
  const int worst = worst_exit_code(codes);
  if (worst != 0) write_all(STDERR_FILENO, "[launcher] " + summary + "\n");
  return worst;
}

}  // namespace

int launch_local_ranks(const LaunchOptions& options) {
  if (options.nproc < 1) throw std::runtime_error("--nproc must be at least 1");
  const int port = free_loopback_port();
  std::vector<std::string> argv_strings = {"bitnet"};
  argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv = c_strings(argv_strings);

  struct sigaction action {};
  action.sa_handler = record_launcher_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);

  std::vector<Rank> ranks;
  std::vector<Stream> streams;
  for (int r = 0; r < options.nproc; ++r) ranks.push_back(start_rank(r, options.nproc, port, argv, &streams));

  int forwarded = 0;
  std::optional<Clock::time_point> failed_at;
  Straggler stragglers(std::chrono::seconds(options.timeout_s + 30));
  while (true) {
    forward_signals(ranks, &forwarded);
    const bool output_open = pump_streams(streams);
    const bool any_running = reap_ranks(ranks, &failed_at);
    if (!any_running && !output_open) break;
    if (any_running) stragglers.stop_if_overdue(ranks, &failed_at);
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return report_exit(ranks);
}

}  // namespace bitnet::cli
