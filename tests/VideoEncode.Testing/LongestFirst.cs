using Xunit;
using Xunit.Abstractions;

namespace VideoEncode.Testing;

/// <summary>
/// Marks a test class that takes much longer than the rest (several hosts, leases left to lapse, real
/// encodes): it is started first, so it runs beside the many short ones instead of after them.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RunsLongAttribute : Attribute;

/// <summary>
/// Starts the collections holding a <see cref="RunsLongAttribute"/> class first, the rest after them in
/// the order xunit found them in. With a few collections at a time on two cores, a long one started last would
/// keep the whole run waiting on it alone. Each test project names it in an assembly attribute:
/// <c>[assembly: TestCollectionOrderer(LongestFirst.TypeName, LongestFirst.AssemblyName)]</c>.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    public const string TypeName = "VideoEncode.Testing.LongestFirst";
    public const string AssemblyName = "VideoEncode.Testing";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.Select((collection, index) => (collection, index))
            .OrderBy(item => RunsLong(item.collection) ? 0 : 1)
            .ThenBy(item => item.index)
            .Select(item => item.collection);

    private const string ClassCollectionPrefix = "Test collection for ";

    // A class in no named collection forms its own, named after it; a named collection counts when
    // its definition carries the attribute.
    private static bool RunsLong(ITestCollection collection)
    {
        var type = collection.CollectionDefinition
            ?? (collection.DisplayName.StartsWith(ClassCollectionPrefix, StringComparison.Ordinal)
                ? collection.TestAssembly.Assembly.GetType(collection.DisplayName[ClassCollectionPrefix.Length..])
                : null);
        return type?.GetCustomAttributes(typeof(RunsLongAttribute).AssemblyQualifiedName).Any() == true;
    }
}
