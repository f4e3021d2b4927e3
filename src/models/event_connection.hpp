#pragma once

#include <memory>

#include "models/event_server.hpp"
#include "net/fd.hpp"
#include "reactor/event_loop.hpp"
#include "server/session_host.hpp"
#include "transfer/pump.hpp"

namespace nm {

// One client on an event loop: its control socket and, for FTP, its data channel (a passive
// listener or an outgoing connect, then a DataPump). What the connection does with its session
// is SessionHost's; this class only moves bytes. Owned by its EventServer; loop thread only.
class EventConnection final : public Handler, private SessionHost::Driver {
 public:
  EventConnection(EventServer& server, Fd fd);
  ~EventConnection() override;

  // Opens the session for `peer`, registers with the loop and sends the greeting; false when
  // the loop refuses the descriptor.
  bool open(const Address& peer);
  void on_ready(unsigned events) override;
  // The socket's peer (what admission counted), once open() has begun.
  const Address& peer() const { return host_.peer(); }
  // Closes every descriptor now (server shutdown).
  void shut();
  // The server drains: the host decides, this sends what it says and closes when told.
  void drain();

 private:
  // The data channel's descriptors report here, through small forwarding handlers.
  class DataHandler final : public Handler {
   public:
    DataHandler(EventConnection* owner, void (EventConnection::*method)(unsigned))
        : owner_(owner), method_(method) {}
    void on_ready(unsigned events) override { (owner_->*method_)(events); }

   private:
    EventConnection* owner_;
    void (EventConnection::*method_)(unsigned);
  };

  // SessionHost::Driver
  PassiveResult open_passive(const PassiveRequest& request) override;
  void close_passive() override;
  void start_transfer(TransferRequest request) override;
  void stop_transfer(TransferResult::Status status) override;
  void start_delay(std::chrono::milliseconds duration) override;
  void run_work(std::function<void()> job) override;

  // Reads the control connection (edge-triggered: to EAGAIN, or to a short read when
  // `short_read_drains`, i.e. when called for an edge that did not say the peer closed).
  void read_control(bool short_read_drains);
  void flush();
  // Sends what the host wrote, closes when it says so, and picks the interest to wait for.
  void after();
  void arm_timer();

  void on_passive_ready(unsigned events);
  void on_data_ready(unsigned events);
  // --proxy-protocol-data: reads the candidate's header as far as it has come; the listener is
  // not watched meanwhile (one candidate at a time).
  void read_data_header();
  // The candidate's header was refused (logged): close it and accept again.
  void drop_candidate();
  void start_pump();
  // The rate limit: stop watching the data socket and come back on a timer.
  void throttle();
  void finish_transfer(const TransferResult& result);
  void close_data_channel();
  void close();

  EventServer& server_;
  EventLoop& loop_;
  Fd fd_;
  SessionHost host_;
  bool closed_ = false;
  bool reading_ = false;  // the loop watches fd_ for input
  TimerId timer_ = 0;
  SessionHost::Clock::time_point timer_due_ = SessionHost::Clock::time_point::max();
  TimerId delay_timer_ = 0;
  // False once closed: work finishing on the pool after that finds nobody to tell. Made by the
  // first run_work(): most sessions never hand work to the pool.
  std::shared_ptr<bool> alive_;

  // The data channel: from a PASV/EPSV listener or an active connect to the end of the
  // transfer. On the heap while it exists, so an idle session pays 8 bytes for it, not ~170;
  // channel() makes it, release_channel() frees it once nothing in it is open.
  struct DataChannel {
    explicit DataChannel(EventConnection* owner)
        : passive_handler(owner, &EventConnection::on_passive_ready),
          data_handler(owner, &EventConnection::on_data_ready) {}
    Fd passive;
    Fd data;
    bool connecting = false;
    std::unique_ptr<TransferRequest> pending;  // waiting for its data connection
    std::unique_ptr<DataPump> pump;
    // --proxy-protocol-data: the rule data connections must pass (null: none); while
    // reading_header, data is a candidate whose header is not yet whole, and header_timer cuts
    // it at --proxy-timeout. early: what followed the header, for the pump.
    std::unique_ptr<DataProxyHeader> header;
    bool reading_header = false;
    TimerId header_timer = 0;
    std::string early;
    unsigned interest = 0;       // what the data socket is watched for while the pump runs
    TimerId throttle_timer = 0;  // set while the rate limit holds the pump back
    // A handler's call may free the channel, handler and all: it touches nothing after it.
    DataHandler passive_handler;
    DataHandler data_handler;
  };
  DataChannel& channel();
  // Frees the channel when it holds nothing open (it may be the caller's own handler's: the
  // loop calls no handler of an unwatched descriptor again).
  void release_channel();
  std::unique_ptr<DataChannel> chan_;
};

}  // namespace nm
