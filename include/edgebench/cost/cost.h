// Cost: what a run's load would cost a month under dated, sourced price sheets.
//
// Contract: every price comes from a PriceSheet (scenario/price_sheet.h), none from code.
// The run's load is scaled to a 30-day month (2,592,000 s) at the scenario's rate
// (devices x RunInfo::rate_per_device; the measured sent rate for `rate: max`), with the
// connections it held (gateways, else devices, plus edgebench's subscriber) and the wire
// bytes per message the capture measured (else estimated from the MQTT packet size). Each
// CostPart has its quantity, unit, unit price and amount in the price's currency and in US
// dollars; the totals are in US dollars. Every assumption is written to CostResult::notes.
// How it is derived, with a worked example: docs/cost.md. Pure functions; thread-safe.
#ifndef EDGEBENCH_COST_COST_H_
#define EDGEBENCH_COST_COST_H_

#include <string>
#include <vector>

#include "edgebench/results/run_result.h"
#include "edgebench/scenario/price_sheet.h"

namespace edgebench {

inline constexpr double kSecondsPerMonth = 2'592'000;  // 30 days

// What a cost is computed from: the month's basis and the message facts metering needs.
struct CostLoad {
  CostBasis basis;
  int payload_bytes = 0;  // MQTT payload of each message (0: unknown, one metering step)
  int qos = 0;
  int subscribers = 1;             // deliveries per published message (edgebench's one subscriber)
  std::vector<std::string> notes;  // how the basis was derived
};

// The basis of `run`: its planned rate (or the measured one under `rate: max`), its
// connections and its wire bytes per message, each choice explained in notes.
CostLoad CostLoadOf(const RunResult& run);

// The parts one sheet charges for `load`, in the order of the sheet's sections. Notes
// on limits (a free allowance used, a volume above the sheet's stated tier) go to `notes`.
std::vector<CostPart> SheetCost(const PriceSheet& sheet, const CostLoad& load,
                                std::vector<std::string>* notes);

// How a result names the sheet: its sources joined by "; ", its oldest price date and
// the exchange rate of its own currency.
CostSheetRef SheetRefOf(const PriceSheet& sheet);

// Every sheet's parts for `load` added up: per month and per million published messages,
// in US dollars.
CostResult CostOf(const std::vector<PriceSheet>& sheets, const CostLoad& load);

// CostOf(sheets, CostLoadOf(run)).
CostResult ComputeCost(const std::vector<PriceSheet>& sheets, const RunResult& run);

}  // namespace edgebench

#endif  // EDGEBENCH_COST_COST_H_
