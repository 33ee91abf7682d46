// The cgroup directory helpers shared by the files of src/cgroup/. Internal: nothing outside
// src/cgroup/ includes this header.
#ifndef EDGEBENCH_SRC_CGROUP_INTERNAL_H_
#define EDGEBENCH_SRC_CGROUP_INTERNAL_H_

#include <string>
#include <vector>

#include "edgebench/base/error.h"

namespace edgebench::cgroup_internal {

// The pids listed in DIR/cgroup.procs. With regular_files a missing file lists none.
// Error: "cannot read DIR/cgroup.procs: ...".
Result<std::vector<std::string>> ProcsIn(const std::string& dir, bool regular_files);

// Removes the cgroup directory `dir` when it holds no process (with regular_files, after
// deleting the ordinary files in it). A missing directory counts as removed.
// Error: "cannot remove cgroup DIR: it still holds processes 12, 34", "cannot remove cgroup
// DIR: Device or resource busy".
Status RemoveCgroupDir(const std::string& dir, bool regular_files);

}  // namespace edgebench::cgroup_internal

#endif  // EDGEBENCH_SRC_CGROUP_INTERNAL_H_
