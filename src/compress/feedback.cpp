#include "distopt/compress/feedback.hpp"

#include "distopt/compress/econtrol_state.hpp"
#include "distopt/compress/ef14_state.hpp"
#include "distopt/compress/ef21_state.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

Registry<FeedbackMechanism>& feedback_registry() {
  static Registry<FeedbackMechanism> r = [] {
    Registry<FeedbackMechanism> f("feedback", "feedback");
    f.add({"none", "", "no error feedback: the compressed vector is used as it is", {}});
    f.add({"ef14",
           "",
           "EF14 (Seide et al. 2014): the agent adds its last compression error",
           {false, false, TheoryStep::kNone,
            [](Index dim, const UplinkOptions&) { return std::make_unique<Ef14State>(dim); }}});
    f.add({"ef21",
           "",
           "EF21 (Richtarik et al. 2021): agents and server track g_a",
           {true, false, TheoryStep::kEf21,
            [](Index dim, const UplinkOptions&) { return std::make_unique<Ef21State>(dim); }}});
    f.add({"ef21w",
           "",
           "EF21-W: EF21 with agents weighted by their smoothness L_a",
           {true, true, TheoryStep::kEf21W,
            [](Index dim, const UplinkOptions&) { return std::make_unique<Ef21State>(dim); }}});
    f.add({"econtrol",
           "",
           "EControl (Gao et al. 2024): feedback of strength --econtrol-eta",
           {true, false, TheoryStep::kNone, [](Index dim, const UplinkOptions& o) {
              return std::make_unique<EControlState>(dim, o.econtrol_eta, o.econtrol_init_gradient);
            }}});
    return f;
  }();
  return r;
}

const FeedbackMechanism& feedback_mechanism(const std::string& name) {
  return feedback_registry().get(name).make;
}

namespace {
void load_into(const StateArchive& in, const std::string& key, Vector& v) {
  Vector x = in.get_vector(key);
  if (x.size() != v.size()) throw InputError("checkpoint: '" + key + "' has the wrong dimension");
  v = std::move(x);
}
}  // namespace

void Ef14State::save(StateArchive& out, Index agent, const std::string& prefix) const {
  out.put(StateArchive::agent_key(agent, prefix + "/e"), e_);
}
void Ef14State::load(const StateArchive& in, Index agent, const std::string& prefix) {
  load_into(in, StateArchive::agent_key(agent, prefix + "/e"), e_);
}

void Ef21State::save(StateArchive& out, Index agent, const std::string& prefix) const {
  out.put(StateArchive::agent_key(agent, prefix + "/g"), g_);
  out.put_count(StateArchive::agent_key(agent, prefix + "/started"), started_ ? 1 : 0);
}
void Ef21State::load(const StateArchive& in, Index agent, const std::string& prefix) {
  load_into(in, StateArchive::agent_key(agent, prefix + "/g"), g_);
  started_ = in.get_count(StateArchive::agent_key(agent, prefix + "/started")) != 0;
}

void EControlState::save(StateArchive& out, Index agent, const std::string& prefix) const {
  out.put(StateArchive::agent_key(agent, prefix + "/e"), e_);
  out.put(StateArchive::agent_key(agent, prefix + "/h"), h_);
  out.put_count(StateArchive::agent_key(agent, prefix + "/started"), started_ ? 1 : 0);
}
void EControlState::load(const StateArchive& in, Index agent, const std::string& prefix) {
  load_into(in, StateArchive::agent_key(agent, prefix + "/e"), e_);
  load_into(in, StateArchive::agent_key(agent, prefix + "/h"), h_);
  started_ = in.get_count(StateArchive::agent_key(agent, prefix + "/started")) != 0;
}

}  // namespace distopt
