using System.Net;
using System.Net.Sockets;

namespace VideoEncode.Testing;

public static class FreePort
{
    /// <summary>A 127.0.0.1 port nobody listens on right now (for a host process that must come back on the same port).</summary>
    public static int Find()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
