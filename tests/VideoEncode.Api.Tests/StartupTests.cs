using System.Diagnostics;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Tests;

/// <summary>Runs the real host executable, as a user would.</summary>
// Real host processes given their database by hand; the PostgreSQL one is named in each test.
[Trait("Store", TestStore.RunOnce)]
public sealed class StartupTests
{
    [Fact]
    public async Task TheHostRefusesToStartWithoutAKeyAndSaysHowToSetOne()
    {
        var (exit, stderr) = await RunHostAsync(key: null, database: TestStore.NewSqlitePath());
        Assert.Equal(1, exit);
        Assert.Contains("VIDEOENCODE_APIKEY", stderr);
    }

    /// <summary>A key short enough to guess stops the host before it opens anything, saying how to make one and never showing the key.</summary>
    [Theory]
    [InlineData("k")]
    [InlineData("correct-horse-battery")]
    [InlineData("0123456789abcdef0123456")]
    public async Task TheHostRefusesAKeyTooEasyToGuessAndSaysHowToMakeOne(string key)
    {
        var (exit, stderr) = await RunHostAsync(key, TestStore.NewSqlitePath());
        Assert.Equal(1, exit);
        var line = stderr.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.Contains("VIDEOENCODE_APIKEY is too easy to guess", line);
        Assert.Contains("openssl rand -hex 32", line);
        if (key.Length > 1) Assert.DoesNotContain(key, line);
    }

    /// <summary>The rule's edges: 128 bits by length and kinds of characters; keys made by run.sh, openssl and the keys API all pass.</summary>
    [Fact]
    public void AKeyNeedsAbout128BitsByItsLengthAndKindsOfCharacters()
    {
        Assert.NotNull(KeyStrength.Problem(new string('a', 27)));   // 27 × log2(26) ≈ 126.9
        Assert.Null(KeyStrength.Problem(new string('a', 28)));      // 28 × log2(26) ≈ 131.6
        Assert.NotNull(KeyStrength.Problem(new string('7', 38)));   // digits only: 38 × log2(10) ≈ 126.2
        Assert.Null(KeyStrength.Problem(Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)))); // openssl rand -hex 32
        Assert.Null(KeyStrength.Problem(QueueFactory.ApiKey));
        for (var i = 0; i < 1000; i++)
        {
            Assert.Null(KeyStrength.Problem(ApiKeyStore.NewSecret()));
            // run.sh: 24 random bytes in base64 without '/', '+' and '='.
            var local = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).Replace("/", "").Replace("+", "").Replace("=", "");
            Assert.Null(KeyStrength.Problem(local));
        }
    }

    /// <summary>A database the host cannot use is one line that names it (never its password) and says what to do; no stack trace.</summary>
    [Theory]
    [InlineData("/proc/not-here/queue.db", "Cannot open the database '/proc/not-here/queue.db' (set VIDEOENCODE_DATABASE")]
    [InlineData("Host=127.0.0.1;Port=1;Username=queue;Password=secret-pw;Database=queue", "Cannot use the PostgreSQL database 'queue' on 127.0.0.1:1")]
    [InlineData("postgres://queue:secret-pw@/queue", "Cannot read VIDEOENCODE_DATABASE: not a PostgreSQL URL")]
    public async Task ADatabaseThatCannotBeUsedIsOneClearLine(string database, string message)
    {
        var (exit, stderr) = await RunHostAsync(key: QueueFactory.ApiKey, database);
        Assert.Equal(1, exit);
        Assert.Contains(message, stderr);
        Assert.DoesNotContain("secret-pw", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Theory]
    [InlineData("Media", "/proc/not-here/media", "Cannot use the media folder '/proc/not-here/media' (set VIDEOENCODE_MEDIA")]
    [InlineData("UploadExpiryHours", "0", "UploadExpiryHours must be more than 0")]
    [InlineData("MediaReserveBytes", "-1", "MediaReserveBytes must be 0 or more")]
    public async Task AMediaSettingThatCannotWorkIsOneClearLine(string setting, string value, string message)
    {
        var database = TestStore.NewSqlitePath();
        try
        {
            var (exit, stderr) = await RunHostAsync(key: QueueFactory.ApiKey, database, (setting, value));
            Assert.Equal(1, exit);
            Assert.Contains(message, stderr);
            Assert.DoesNotContain("   at ", stderr);
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    /// <summary>A setting that breaks a rule stops the host before it opens anything: the whole of stderr is one line naming it and its variable.</summary>
    [Theory]
    [InlineData("LeaseSeconds", "0", "LeaseSeconds must be 1 or more (set VIDEOENCODE_LEASESECONDS), not 0.")]
    [InlineData("RetentionDays", "-1", "RetentionDays must be 0 (keep ended jobs forever) or more (set VIDEOENCODE_RETENTIONDAYS), not -1.")]
    public async Task ABadSettingIsOneLineThatNamesIt(string setting, string value, string message)
    {
        var database = TestStore.NewSqlitePath();
        try
        {
            var (exit, stderr) = await RunHostAsync(key: QueueFactory.ApiKey, database, (setting, value));
            Assert.Equal(1, exit);
            Assert.Equal(message, stderr.Trim());
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    /// <summary>
    /// On PostgreSQL the lead of the upkeep is renewed at each sweep, so it must last two sweeps; the rule
    /// is checked before the database is reached (this server does not exist).
    /// </summary>
    [Fact]
    public async Task OnPostgresALeaderLeaseShorterThanTwoSweepsIsRefused()
    {
        var (exit, stderr) = await RunHostAsync(key: QueueFactory.ApiKey, "Host=127.0.0.1;Port=1;Username=queue;Database=queue",
            ("LeaseSweepSeconds", "2"), ("LeaderLeaseSeconds", "3"));
        Assert.Equal(1, exit);
        Assert.Equal("LeaderLeaseSeconds must be at least twice LeaseSweepSeconds (4) on PostgreSQL, or the lead of the upkeep passes " +
                     "from host to host (set VIDEOENCODE_LEADERLEASESECONDS), not 3.", stderr.Trim());
    }

    /// <summary>One host on SQLite has no lead to pass: the leader lease is not its concern.</summary>
    [Fact]
    public void TheLeaderLeaseRuleHoldsOnlyOnPostgres()
    {
        var options = new QueueOptions { LeaseSweepSeconds = 2, LeaderLeaseSeconds = 3 };
        Assert.True(new QueueOptionsValidation(sharedStore: false).Validate(null, options).Succeeded);
        Assert.False(new QueueOptionsValidation(sharedStore: true).Validate(null, options).Succeeded);
        Assert.True(new QueueOptionsValidation(sharedStore: true).Validate(null, new QueueOptions { LeaseSweepSeconds = 2, LeaderLeaseSeconds = 4 }).Succeeded);
    }

    private static async Task<(int Exit, string Stderr)> RunHostAsync(string? key, string database, params (string Name, string Value)[] settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "VideoEncode.Api.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment.Remove("VIDEOENCODE_APIKEY");
        if (key is not null) start.Environment["VIDEOENCODE_APIKEY"] = key;
        start.Environment["VIDEOENCODE_DATABASE"] = database;
        // Never made: each case here stops the host before it makes its media folder.
        start.Environment["VIDEOENCODE_MEDIA"] = Path.Combine(Path.GetTempPath(), "videoencode-tests", Guid.NewGuid().ToString("N"), "media");
        foreach (var (name, value) in settings) start.Environment["VIDEOENCODE_" + name.ToUpperInvariant()] = value;

        using var host = Process.Start(start)!;
        var stderr = host.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.WaitForExitAsync(timeout.Token);
        return (host.ExitCode, await stderr);
    }
}
