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
  EventConnection(EventServer& server, Fd fd, const Address& peer);
  ~EventConnection() override;

  // Registers with the loop and sends the greeting; false when the loop refuses the descriptor.
  bool open();
  void on_ready(unsigned events) override;
  const Address& peer() const { return peer_; }
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

  void read_control();
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
  Address peer_;
  SessionHost host_;
  bool closed_ = false;
  bool reading_ = false;  // the loop watches fd_ for input
  TimerId timer_ = 0;
  SessionHost::Clock::time_point timer_due_ = SessionHost::Clock::time_point::max();
  TimerId delay_timer_ = 0;
  // False once closed: work finishing on the pool after that finds nobody to tell.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  // Data channel.
  Fd passive_;
  Fd data_;
  bool connecting_ = false;
  std::unique_ptr<TransferRequest> pending_;  // waiting for its data connection
  std::unique_ptr<DataPump> pump_;
  // --proxy-protocol-data: the rule data connections must pass (null: none); while
  // reading_header_, data_ is a candidate whose header is not yet whole, and header_timer_ cuts
  // it at --proxy-timeout. early_: what followed the header, for the pump.
  std::unique_ptr<DataProxyHeader> data_header_;
  bool reading_header_ = false;
  TimerId header_timer_ = 0;
  std::string early_;
  unsigned data_interest_ = 0;  // what the data socket is watched for while the pump runs
  TimerId throttle_timer_ = 0;  // set while the rate limit holds the pump back
  DataHandler passive_handler_{this, &EventConnection::on_passive_ready};
  DataHandler data_handler_{this, &EventConnection::on_data_ready};
};

}  // namespace nm
