using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tasks;

/// <summary>The work of each kind of task this worker runs (<see cref="TaskKinds"/>); a plain encode's is the job runner's own.</summary>
public static class TaskWorks
{
    public static readonly IReadOnlyDictionary<string, ITaskWork> All = new Dictionary<string, ITaskWork>
    {
        [TaskKinds.Plan] = new PlanWork(),
        [TaskKinds.Chunk] = new ChunkWork(),
        [TaskKinds.Audio] = new AudioWork(),
        [TaskKinds.Join] = new JoinWork(),
        [TaskKinds.Package] = new PackageWork(),
        [TaskKinds.Thumbnails] = new ThumbnailsWork(),
    };
}
