using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>One row of the stores table.</summary>
public sealed record StoreRow(string Store, int Hosts, CycleResult Cycles, double BulkPerSecond);

/// <summary>
/// The same two measures — claim+finish cycles and bulk enqueue — on a fresh database of a store,
/// served by one host process or by several sharing that database, in the same order every time.
/// </summary>
public static class StoreComparison
{
    public static async Task<StoreRow> MeasureAsync(string store, string database, int hostCount, int cycleJobs, int bulkJobs)
    {
        var hosts = new List<HostProcess>();
        var clients = new List<HttpClient>();
        try
        {
            // One after the other: the first applies the schema, the rest find it in place.
            for (var i = 0; i < hostCount; i++)
            {
                var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
                hosts.Add(await HostProcess.StartAsync(address, database));
                clients.Add(QueueLoad.NewClient(address));
            }
            Console.WriteLine($"{store}, {hostCount} host(s): pids {string.Join(", ", hosts.Select(host => host.Id))}");
            var load = new QueueLoad(clients);
            var cycles = await load.MeasureCyclesAsync(cycleJobs);
            // Two requests at a time, as in the main table; with two hosts, one at each.
            var bulk = await load.MeasureBulkAsync(bulkJobs, "bulk", parallel: 2);
            return new StoreRow(store, hostCount, cycles, bulk);
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
            foreach (var host in hosts) host.Dispose();
            TestStore.Delete(database);
        }
    }
}
