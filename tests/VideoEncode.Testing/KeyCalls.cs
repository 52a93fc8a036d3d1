using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace VideoEncode.Testing;

/// <summary>Keys with roles, as a client makes them: POST /api/keys with an admin key.</summary>
public static class KeyCalls
{
    /// <summary>Makes a key named <paramref name="name"/> with <paramref name="role"/> and answers its secret.</summary>
    public static async Task<string> CreateKeyAsync(HttpClient admin, string name, string role)
    {
        var response = await admin.PostAsJsonAsync("/api/keys", new { name, role });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/keys answered {response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("key").GetString()!;
    }
}
