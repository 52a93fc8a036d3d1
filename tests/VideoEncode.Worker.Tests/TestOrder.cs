using VideoEncode.Testing;
using Xunit;

// The classes marked [RunsLong] start first (see LongestFirst).
[assembly: TestCollectionOrderer(LongestFirst.TypeName, LongestFirst.AssemblyName)]
