using System.CommandLine;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Auth;

/// <summary>
/// `VideoEncode.Api keys add NAME --role ROLE | list | revoke NAME`: the keys, managed on the database
/// itself (for the first keys, or when no admin key is at hand), as POST/GET/DELETE /api/keys do.
/// Changes are recorded in the audit trail as made from the command line by the OS user. A host
/// running on the same database sees a new or revoked key within a second.
/// </summary>
internal static class KeysCommand
{
    public const string Name = "keys";

    /// <param name="open">
    /// Opens the host's services on a database (the configured one when null), or answers why it cannot
    /// (Extensions' CommandServices.Open; passed in, so Auth does not import the set-up that imports Auth).
    /// </param>
    public static Task<int> RunAsync(string[] args, Func<string?, (WebApplication? App, string? Problem)> open)
    {
        var database = new Option<string?>("--database")
        {
            HelpName = "database",
            Description = "The queue's database (a SQLite path, \"Host=…\" or postgres://…); by default the host's own setting " +
                          $"({SettingNames.DatabaseVariable}, appsettings.json, else data/videoencode.db).",
            Recursive = true,
        };
        var name = new Argument<string>("name") { Description = "The key's name: letters, digits, '.', '_' or '-' (e.g. encoder-7)." };
        var role = new Option<string>("--role")
        {
            Description = $"What the key may do: {string.Join(", ", Roles.All)}.",
            Required = true,
        };
        role.AcceptOnlyFromAmong([.. Roles.All]);

        var add = new Command("add", "Make a key with a role and print its secret (shown this once).") { name, role };
        add.SetAction(parsed => RunOn(open(parsed.GetValue(database)), async (keys, actor) =>
        {
            if (KeysApi.Check(parsed.GetValue(name)!, parsed.GetValue(role)!) is { } problem) return Fail(problem);
            var created = await keys.CreateAsync(parsed.GetValue(name)!, parsed.GetValue(role)!, actor);
            if (created is null) return Fail($"A key named '{parsed.GetValue(name)}' exists; revoke it first or choose another name.");
            Console.WriteLine(created.Key);
            Console.Error.WriteLine($"Made the {created.Role} key '{created.Name}'. Its secret is above; it is not stored and cannot be shown again.");
            return 0;
        }));

        var list = new Command("list", "List the keys: name, role, created, last used (never the secrets).");
        list.SetAction(parsed => RunOn(open(parsed.GetValue(database)), async (keys, _) =>
        {
            Console.WriteLine($"{"NAME",-24} {"ROLE",-7} {"CREATED (UTC)",-20} LAST USED (UTC)");
            foreach (var key in await keys.ListAsync())
                Console.WriteLine($"{key.Name,-24} {key.Role,-7} {Time(key.CreatedAt),-20} {(key.LastUsedAt is { } used ? Time(used) : "never")}");
            return 0;
        }));

        var revokedName = new Argument<string>("name") { Description = "The key to revoke." };
        var revoke = new Command("revoke", "Revoke a key: hosts refuse it within a second.") { revokedName };
        revoke.SetAction(parsed => RunOn(open(parsed.GetValue(database)), async (keys, actor) =>
        {
            if (!await keys.RevokeAsync(parsed.GetValue(revokedName)!, actor)) return Fail($"No key is named '{parsed.GetValue(revokedName)}'.");
            Console.WriteLine($"Revoked '{parsed.GetValue(revokedName)}'.");
            return 0;
        }));

        var command = new Command(Name, "Manage the API keys and their roles (admin, submit, worker, read).") { add, list, revoke };
        command.Options.Add(database);
        return new RootCommand("VideoEncode host") { command }.Parse(args).InvokeAsync();
    }

    private static async Task<int> RunOn((WebApplication? App, string? Problem) opened, Func<ApiKeyStore, string, Task<int>> action)
    {
        var (app, problem) = opened;
        if (app is null) return Fail(problem!);
        await using (app)
            return await action(app.Services.GetRequiredService<ApiKeyStore>(), $"command line ({Environment.UserName})");
    }

    private static string Time(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }
}
