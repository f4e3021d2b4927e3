#pragma once

#include <memory>

#include "models/event_server.hpp"
#include "net/buffer.hpp"
#include "net/fd.hpp"
#include "reactor/event_loop.hpp"
#include "session/session.hpp"
#include "transfer/pump.hpp"

namespace nm {

// One client on an event loop: its control socket, its session, its buffered output and, for
// FTP, its data channel (a passive listener or an outgoing connect, then a DataPump).
class EventConnection final : public Handler {
 public:
  EventConnection(EventServer& server, Fd fd, const Address& peer);
  ~EventConnection() override;

  // Registers with the loop and sends the greeting; false when the loop refuses the descriptor.
  bool open();
  void on_ready(unsigned events) override;
  const Address& peer() const { return peer_; }
  // Closes every descriptor now (server shutdown).
  void shut();

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

  void read_control();
  void flush();
  // Executes the session's requests, sends its output, and picks the interest to wait for.
  void settle();
  void update_interest();
  void close();

  void execute(PassiveRequest& request);
  void execute(TransferRequest& request);
  void execute(AbortRequest& request);
  void execute(ClosePassiveRequest& request);
  void execute(DelayRequest& request);
  void execute(WorkRequest& request);

  void on_passive_ready(unsigned events);
  void on_data_ready(unsigned events);
  void start_pump();
  void finish_transfer(TransferResult::Status status, int error = 0);
  void close_data_channel();

  void arm_idle_timer();
  void on_idle_timer();
  void arm_data_timer();
  void on_data_timer();

  EventServer& server_;
  EventLoop& loop_;
  Fd fd_;
  Address peer_;
  std::unique_ptr<Session> session_;
  Buffer out_;
  bool reading_paused_ = false;  // output above the high-water mark
  bool input_closed_ = false;
  bool delayed_ = false;  // a DelayRequest is running
  bool closed_ = false;
  bool settling_ = false;
  Clock::time_point last_active_;
  TimerId idle_timer_ = 0;
  TimerId delay_timer_ = 0;

  // Data channel.
  Fd passive_;
  Fd data_;
  bool transfer_active_ = false;
  bool connecting_ = false;
  std::unique_ptr<TransferRequest> pending_;  // waiting for its data connection
  std::unique_ptr<DataPump> pump_;
  Clock::time_point last_data_progress_;
  TimerId data_timer_ = 0;
  DataHandler passive_handler_{this, &EventConnection::on_passive_ready};
  DataHandler data_handler_{this, &EventConnection::on_data_ready};
};

}  // namespace nm
