using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Names the outputs of one enqueue request. A job's own output_name is refused when another live
/// job holds it or the request names it twice; a job without one gets the input's name with .mp4,
/// numbered "a (2).mp4", "a (3).mp4" … past the names live jobs hold and names given earlier in the
/// request. Letter case is ignored, as on Windows and macOS file systems.
///
/// The store answers which names live jobs hold, in batches: <see cref="ToLookUp"/> says which names
/// it needs to know about next, <see cref="Found"/> takes the ones held. A request of 10,000 jobs
/// therefore costs a few lookups, not 10,000, on a store where each lookup is a round trip.
/// </summary>
public sealed class OutputNaming
{
    private static readonly StringComparer NameComparer = StringComparer.OrdinalIgnoreCase;

    private readonly IReadOnlyList<NewJob> jobs;
    private readonly string?[] names;
    private readonly HashSet<string> taken = new(NameComparer);
    private readonly Dictionary<string, bool> held = new(NameComparer);
    private readonly Dictionary<string, int> nextNumber = new(NameComparer);
    private IReadOnlyCollection<string> lastLookUp = [];
    private bool ownNamesAsked, checkingOwnNames;
    private int firstUnnamed;

    public OutputNaming(IReadOnlyList<NewJob> jobs)
    {
        this.jobs = jobs;
        names = new string?[jobs.Count];
        for (var i = 0; i < jobs.Count && Clash is null; i++)
            if (jobs[i].OutputName is { } name)
            {
                if (!taken.Add(name)) Clash = (i, name);
                names[i] = name;
            }
    }

    /// <summary>The first job whose own output_name is taken (by a live job, or earlier in the request).</summary>
    public (int Index, string Name)? Clash { get; private set; }

    /// <summary>Every job's output name, once <see cref="ToLookUp"/> is empty and there is no clash.</summary>
    public IReadOnlyList<string> Names => names!;

    /// <summary>The names to ask the store about next; empty when naming is done (or a clash ended it).</summary>
    public IReadOnlyCollection<string> ToLookUp()
    {
        if (Clash is not null) return lastLookUp = [];
        if (!ownNamesAsked)
        {
            ownNamesAsked = true;
            checkingOwnNames = taken.Count > 0;
            if (checkingOwnNames) return lastLookUp = taken.ToList();
        }
        return lastLookUp = NameInOrder();
    }

    /// <summary>Of the names last asked about, those a live job holds.</summary>
    public void Found(IEnumerable<string> heldNames)
    {
        foreach (var name in lastLookUp) held[name] = false;
        foreach (var name in heldNames) held[name] = true;
        if (!checkingOwnNames) return;
        checkingOwnNames = false;
        for (var i = 0; i < jobs.Count && Clash is null; i++)
            if (jobs[i].OutputName is { } own && held.GetValueOrDefault(own))
                Clash = (i, own);
    }

    /// <summary>
    /// Names jobs without an output_name, strictly in request order, as far as what is known allows;
    /// answers the candidates whose holders must be looked up before it can go on (for every job
    /// still unnamed, so that usually one lookup is enough).
    /// </summary>
    private IReadOnlyCollection<string> NameInOrder()
    {
        for (; firstUnnamed < jobs.Count; firstUnnamed++)
        {
            if (names[firstUnnamed] is not null) continue;
            var wanted = FileNames.DefaultOutputName(jobs[firstUnnamed].FileName, jobs[firstUnnamed].Settings.Container);
            for (var n = nextNumber.GetValueOrDefault(wanted, 1); ; n++)
            {
                var candidate = FileNames.Numbered(wanted, n);
                if (taken.Contains(candidate) || held.GetValueOrDefault(candidate)) continue;
                if (!held.ContainsKey(candidate)) return Candidates();
                names[firstUnnamed] = candidate;
                taken.Add(candidate);
                nextNumber[wanted] = n + 1;
                break;
            }
        }
        return [];
    }

    /// <summary>For every unnamed job from here on, the next untried candidate of its wanted name (enough for each job of that name).</summary>
    private HashSet<string> Candidates()
    {
        var wantedCount = new Dictionary<string, int>(NameComparer);
        for (var i = firstUnnamed; i < jobs.Count; i++)
            if (names[i] is null)
            {
                var wanted = FileNames.DefaultOutputName(jobs[i].FileName, jobs[i].Settings.Container);
                wantedCount[wanted] = wantedCount.GetValueOrDefault(wanted) + 1;
            }
        var candidates = new HashSet<string>(NameComparer);
        foreach (var (wanted, count) in wantedCount)
        {
            var found = 0;
            for (var n = nextNumber.GetValueOrDefault(wanted, 1); found < count; n++)
            {
                var candidate = FileNames.Numbered(wanted, n);
                if (taken.Contains(candidate) || held.GetValueOrDefault(candidate)) continue;
                found++;
                if (!held.ContainsKey(candidate)) candidates.Add(candidate);
            }
        }
        return candidates;
    }
}
