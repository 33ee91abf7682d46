// Catch2 v2 main for the edgebench test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
